"""A project folder that moved keeps its embedded store: renamed, copied or unpacked elsewhere.

MLflow's SQLite store records absolute ``file://`` locations: each experiment's artifact root,
each run's artifact URI, each logged model's and registered version's location. Copied with its
project, the store still pointed at the old folder: ``register`` refused the model as outside
this workspace's store, and a new run of an old experiment would have written its artifacts into
the original project (or recreated its old path). MLflow has no call that moves an artifact root,
so on opening the store the locations under the old ``.mlops/artifacts`` are rewritten to this
folder's, in one transaction under the store's creation lock. Nothing else changes: the files
themselves came along with the folder.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import Counter
from pathlib import Path

from ..locks import FileLock
from ..workspace import STATE_DIR, Workspace

ARTIFACTS = f"/{STATE_DIR}/artifacts"
# every column of MLflow's schema that holds a location inside the artifact root
LOCATIONS = (
    ("experiments", "artifact_location"),
    ("runs", "artifact_uri"),
    ("logged_models", "artifact_location"),
    ("model_versions", "source"),
    ("model_versions", "storage_location"),
)

_in_place: set[Path] = set()
_guard = threading.Lock()


def recorded_root(con: sqlite3.Connection) -> str | None:
    """The artifact root (``file:///.../.mlops/artifacts``) the store's experiments were made in."""
    roots: Counter[str] = Counter()
    for (location,) in con.execute("SELECT artifact_location FROM experiments"):
        head, sep, _ = str(location or "").partition(ARTIFACTS + "/")
        if sep and head.startswith("file://"):
            roots[head + ARTIFACTS] += 1
    return roots.most_common(1)[0][0] if roots else None


def _columns(con: sqlite3.Connection) -> list[tuple[str, str]]:
    present = []
    for table, column in LOCATIONS:
        names = {row[1] for row in con.execute(f"PRAGMA table_info({table})")}
        if column in names:
            present.append((table, column))
    return present


def relocate(db: Path, root: str) -> int:
    """Rewrite the locations under the store's old artifact root to ``root``; how many moved."""
    con = sqlite3.connect(db, timeout=30, isolation_level=None)
    try:
        old = recorded_root(con)
        if old is None or old == root:
            return 0
        moved = 0
        con.execute("BEGIN IMMEDIATE")
        try:
            for table, column in _columns(con):
                cursor = con.execute(
                    # the table and column names come from LOCATIONS, never from data
                    f"UPDATE {table} SET {column} = ? || substr({column}, ?) "
                    f"WHERE {column} = ? OR substr({column}, 1, ?) = ?",
                    (root, len(old) + 1, old, len(old) + 1, old + "/"),
                )
                moved += cursor.rowcount
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        return moved
    finally:
        con.close()


def keep_in_place(ws: Workspace) -> None:
    """Make the embedded store's locations this folder's (once per process and store)."""
    db = ws.state_dir / "mlflow.db"
    with _guard:
        if db in _in_place:
            return
    root = ws.artifacts_dir.as_uri()
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        moved = recorded_root(con) not in (None, root)
    except sqlite3.Error:
        moved = False  # a store these queries do not know: MLflow answers for it
    finally:
        con.close()
    if moved:
        lock = FileLock(ws.subdir("locks") / "store-init.lock")
        if lock.acquire(timeout=120):
            try:
                relocate(db, root)
            finally:
                lock.release()
    with _guard:
        _in_place.add(db)


def forget_checked() -> None:
    """Tests that move a store within one process call this."""
    with _guard:
        _in_place.clear()
