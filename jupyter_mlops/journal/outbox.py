"""The durable local journal every tracking record passes through on its way to MLflow.

A cell only appends to a per-process SQLite journal in ``.mlops/outbox/`` (WAL, about 0.1 ms an
insert); the workspace's sync agent (``journal.agent``) replays every journal to MLflow in order,
so a slow or unreachable tracking server never slows a cell, and a killed process loses nothing:
its journal stays on disk, its flock is released by the kernel, and the agent replays it at once
and marks the runs it left open as FAILED.

Exactly once: an op is deleted only after MLflow accepted it. An op that was sent but whose answer
was lost (``attempts > 0``) is checked against the server before it is sent again. An op made of
several MLflow calls records each one MLflow confirmed in ``steps``: a model (create, link, each
of its files, finalize, tag), a folder (each file), a dataset version (inputs, snapshot, status),
each record of a batch (its params and metrics, each text file). A retry resumes after the last
confirmed step instead of starting over, so a record of many uploads finishes even when every
few answers are lost.

Each record is one of the typed, versioned kinds of ``records`` (its JSON in ``ops.payload``).
A record MLflow refuses, or one this version cannot read, moves to ``failed_ops`` with the
reason; nothing is dropped silently.
``jupyter-mlops sync`` lists them and can put them back in line (``--retry-failed``, resuming
from their recorded steps) or drop them (``--discard-failed``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..locks import FileLock
from ..workspace import Workspace
from .records import CreateRun, EndRun, Record, encode

# one journaled operation as read back: (seq, run_key, kind, payload JSON, attempts)
OpRow = tuple[int, str, str, str, int]

SCHEMA = """
CREATE TABLE IF NOT EXISTS ops (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    run_key TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    run_key TEXT PRIMARY KEY,
    run_id TEXT,
    experiment_id TEXT,
    artifact_uri TEXT,
    open INTEGER NOT NULL DEFAULT 1,
    last_seen REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS failed_ops (
    seq INTEGER PRIMARY KEY,
    run_key TEXT, kind TEXT, payload TEXT, error TEXT, failed REAL
);
CREATE TABLE IF NOT EXISTS datasets (
    key TEXT PRIMARY KEY,
    run_id TEXT NOT NULL,
    snapshot_run TEXT,
    file_hash TEXT
);
CREATE TABLE IF NOT EXISTS steps (
    seq INTEGER NOT NULL,
    step TEXT NOT NULL,
    value TEXT,
    PRIMARY KEY (seq, step)
);
"""


def replay_lock(ws: Workspace) -> FileLock:
    """Held by the one process that replays journals other than its own (the sync agent)."""
    tag = hashlib.sha256(ws.tracking_uri.encode()).hexdigest()[:10]
    return FileLock(ws.state_dir / "locks" / f"agent-{tag}.lock")


def count_rows(db: Path, *tables: str, timeout: float = 5.0) -> list[int] | None:
    """Row counts of a journal's tables, read-only (a reader never takes its owner's lock);
    None when it cannot be read right now (being created or removed)."""
    try:
        con = sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True, timeout=timeout)
        try:
            return [con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables]
        finally:
            con.close()
    except sqlite3.Error:
        return None


def _connect(path: Path) -> sqlite3.Connection:
    con = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.executescript(SCHEMA)
    return con


class Outbox:
    """One process's journal: append from any thread; the owning process holds its lock."""

    def __init__(self, path: Path, lock: FileLock) -> None:
        self.path = path
        self.lock = lock
        self._local = threading.local()
        self._write_guard = threading.Lock()
        self.blob_dir = path.with_suffix(".blobs")
        # exists while a tracked cell of the owning process computes (the agent waits meanwhile)
        self.busy_path = path.with_suffix(".busy")
        self.steps_recorded = 0  # by this process: the replayer's progress short of whole ops

    @classmethod
    def create(cls, ws: Workspace) -> Outbox:
        """A new journal for this process (the sync agent replays it while the process lives)."""
        folder = ws.subdir("outbox")
        name = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        lock = FileLock(folder / f"{name}.lock")
        lock.acquire(blocking=False)
        box = cls(folder / f"{name}.db", lock)
        _ = box.conn  # create the schema now, not inside the first cell
        return box

    @property
    def conn(self) -> sqlite3.Connection:
        con = getattr(self._local, "con", None)
        if con is None:
            con = self._local.con = _connect(self.path)
        return con

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Group appends into one transaction: one commit for all the records of a cell."""
        if getattr(self._local, "in_batch", False):
            yield
            return
        with self._write_guard:
            con = self.conn
            con.execute("BEGIN IMMEDIATE")
            self._local.in_batch = True
            try:
                yield
            except BaseException:
                con.execute("ROLLBACK")
                raise
            else:
                con.execute("COMMIT")
            finally:
                self._local.in_batch = False

    def append(self, run_key: str, record: Record) -> None:
        """Journal one record of ``run_key`` (a ValueError for a value JSON cannot hold: NaN)."""
        data = encode(record)
        with self.batch():
            self._insert(run_key, record, data, time.time())

    def _insert(self, run_key: str, record: Record, data: str, now: float) -> None:
        con = self.conn
        con.execute(
            "INSERT INTO ops (run_key, kind, payload, created) VALUES (?, ?, ?, ?)",
            (run_key, record.KIND, data, now),
        )
        if isinstance(record, CreateRun):
            con.execute(
                "INSERT OR IGNORE INTO runs (run_key, open, last_seen) VALUES (?, 1, ?)",
                (run_key, now),
            )
        elif isinstance(record, EndRun):
            con.execute("UPDATE runs SET open = 0, last_seen = ? WHERE run_key = ?", (now, run_key))

    def stage_blob(self, run_key: str, source: Path, name: str, *, link: bool = False) -> Path:
        """Copy a file or folder next to the journal; ``link``: a hard link where the file system
        allows (a content-addressed file that is never rewritten in place: no copy of a GB file)."""

        target = self.blob_dir / run_key / uuid.uuid4().hex[:8] / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target)
            return target
        if link:
            try:
                os.link(source, target)
                return target
            except OSError:
                pass
        shutil.copy2(source, target)
        return target

    def pending(self) -> int:
        return int(self.conn.execute("SELECT COUNT(*) FROM ops").fetchone()[0])

    def failed_count(self) -> int:
        return int(self.conn.execute("SELECT COUNT(*) FROM failed_ops").fetchone()[0])

    # -- steps of one op, so that a retry resumes where the last attempt stopped -----------------
    def steps(self, seq: int) -> dict[str, str | None]:
        rows = self.conn.execute("SELECT step, value FROM steps WHERE seq = ?", (seq,))
        return dict(rows.fetchall())

    def steps_of(self, seqs: list[int]) -> dict[int, set[str]]:
        """The recorded steps of several ops at once (the records of a batch)."""
        marks = ",".join("?" * len(seqs))
        found: dict[int, set[str]] = {seq: set() for seq in seqs}
        for seq, step in self.conn.execute(
            f"SELECT seq, step FROM steps WHERE seq IN ({marks})", seqs
        ).fetchall():
            found[seq].add(step)
        return found

    def record_step(self, seq: int, step: str, value: str | None = None) -> None:
        self.conn.execute("INSERT OR REPLACE INTO steps VALUES (?, ?, ?)", (seq, step, value))
        self.steps_recorded += 1

    def delete_ops(self, seqs: list[int]) -> None:
        marks = ",".join("?" * len(seqs))
        with self.batch():
            self.conn.execute(f"DELETE FROM ops WHERE seq IN ({marks})", seqs)
            self.conn.execute(f"DELETE FROM steps WHERE seq IN ({marks})", seqs)

    # -- records MLflow refused -----------------------------------------------------------------
    def move_to_failed(self, rows: list[OpRow], reason: str) -> None:
        with self.batch():
            for seq, key, kind, payload, *_ in rows:
                self.conn.execute(
                    "INSERT OR REPLACE INTO failed_ops VALUES (?, ?, ?, ?, ?, ?)",
                    (seq, key, kind, payload, reason[:2000], time.time()),
                )
                self.conn.execute("DELETE FROM ops WHERE seq = ?", (seq,))

    def failed(self) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            "SELECT seq, run_key, kind, payload, error, failed FROM failed_ops ORDER BY seq"
        ).fetchall()
        keys = ("seq", "run_key", "kind", "payload", "error", "failed")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def retry_failed(self) -> int:
        """Put refused records back in line, at their old place; their recorded steps are kept."""
        with self.batch():
            moved = self.conn.execute(
                "INSERT OR IGNORE INTO ops (seq, run_key, kind, payload, attempts, created) "
                "SELECT seq, run_key, kind, payload, 1, failed FROM failed_ops"  # 1: check first
            ).rowcount
            self.conn.execute("DELETE FROM failed_ops")
        return moved

    def discard_failed(self) -> int:
        """Drop refused records for good (and their staged files with the journal, once drained)."""
        with self.batch():
            seqs = [r[0] for r in self.conn.execute("SELECT seq FROM failed_ops").fetchall()]
            self.conn.execute("DELETE FROM failed_ops")
            if seqs:
                marks = ",".join("?" * len(seqs))
                self.conn.execute(f"DELETE FROM steps WHERE seq IN ({marks})", seqs)
        return len(seqs)

    def has_ops(self, run_key: str) -> bool:
        """Whether records of ``run_key`` still wait to be sent."""
        row = self.conn.execute("SELECT 1 FROM ops WHERE run_key = ? LIMIT 1", (run_key,))
        return row.fetchone() is not None

    # -- dataset versions the replayer landed (by their journal key) ------------------------------
    def record_dataset(
        self, key: str, run_id: str, snapshot_run: str | None, file_hash: str | None
    ) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO datasets VALUES (?, ?, ?, ?)",
            (key, run_id, snapshot_run, file_hash),
        )

    def dataset(self, key: str) -> tuple[str, str | None, str | None] | None:
        """(run id, snapshot run, file hash) of a landed dataset version, else None."""
        row = self.conn.execute(
            "SELECT run_id, snapshot_run, file_hash FROM datasets WHERE key = ?", (key,)
        ).fetchone()
        return (row[0], row[1], row[2]) if row else None

    def run_id(self, run_key: str) -> str | None:
        row = self.conn.execute("SELECT run_id FROM runs WHERE run_key = ?", (run_key,)).fetchone()
        return row[0] if row else None

    def close(self) -> None:
        con = getattr(self._local, "con", None)
        if con is not None:
            con.close()
            self._local.con = None

    def remove_if_drained(self) -> bool:
        """Delete the journal once every op is sent and every run closed."""
        con = self.conn
        ops = con.execute("SELECT COUNT(*) FROM ops").fetchone()[0]
        open_runs = con.execute("SELECT COUNT(*) FROM runs WHERE open = 1").fetchone()[0]
        failed = con.execute("SELECT COUNT(*) FROM failed_ops").fetchone()[0]
        if ops or open_runs or failed:
            return False
        self.close()

        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        shutil.rmtree(self.blob_dir, ignore_errors=True)
        self.busy_path.unlink(missing_ok=True)
        self.lock.release()
        self.lock.path.unlink(missing_ok=True)
        return True
