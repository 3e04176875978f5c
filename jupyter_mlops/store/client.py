"""MLflow clients for a workspace, with the embedded store created where it belongs.

MLflow's own default (no URI) writes ``mlflow.db`` and ``mlruns/`` into the current folder, and a
new SQLite store puts the default experiment's artifacts under ``./mlruns``. Here the schema is
created once, under a lock, with ``.mlops/artifacts`` as its artifact root, and every experiment we
create names its artifact location explicitly.
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, overload

from ..errors import StoreUnavailable
from ..locks import FileLock
from ..quiet import quiet_mlflow
from ..workspace import Workspace
from .relocation import keep_in_place

if TYPE_CHECKING:
    from pathlib import Path

    from mlflow import MlflowClient

_clients: dict[str, MlflowClient] = {}
# run before a read, so that a query sees this process's own queued writes: the journal registers
# its flush here at import (the store must not import the journal that stands on it)
_read_barriers: list[Callable[[Workspace], None]] = []
_experiments: dict[tuple[str, str], str] = {}
# what holds a client beyond this module (the gateways) registers here to let go of it as well
_on_forget: list[Callable[[], None]] = []
_guard = threading.Lock()


def use_wal(db: Path) -> None:
    """Write-ahead logging for the embedded store: a commit appends to the log instead of
    rewriting a rollback journal, which roughly halves what each MLflow write costs, and readers
    (the sidebar, another kernel) no longer block writers. The mode is stored in the file."""

    con = sqlite3.connect(db, timeout=30)
    try:
        con.execute("PRAGMA journal_mode=WAL")
    finally:
        con.close()


def _init_embedded(ws: Workspace) -> None:
    """Create the embedded store once, even when several processes open a fresh workspace at once.

    The schema is built in a side file and renamed into place, so ``mlflow.db`` exists only
    complete: a process that finds it can use it without waiting. Creators queue on a lock.
    """
    db = ws.state_dir / "mlflow.db"
    if db.exists() and db.stat().st_size > 0:
        use_wal(db)  # stores made before WAL was the default switch on first use
        keep_in_place(ws)  # a project folder moved, copied or unpacked elsewhere
        return
    ws.ensure_state_dir()
    ws.artifacts_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(ws.subdir("locks") / "store-init.lock")
    if not lock.acquire(timeout=120):
        raise StoreUnavailable(
            f"the store {db} is still being created by another process ({lock.holder()})",
            hint="wait for it to finish, or stop it",
        )
    try:
        if db.exists() and db.stat().st_size > 0:
            return
        from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

        side = db.with_name(f".mlflow.db.{os.getpid()}.new")
        side.unlink(missing_ok=True)
        store = SqlAlchemyStore(f"sqlite:///{side}", ws.artifacts_dir.as_uri())
        store.engine.dispose()
        use_wal(side)
        os.replace(side, db)
    finally:
        lock.release()


def client_for(ws: Workspace) -> MlflowClient:
    """One MlflowClient per tracking URI and process (creating the embedded store if needed)."""
    uri = ws.tracking_uri
    with _guard:
        client = _clients.get(uri)
        if client is None:
            quiet_mlflow()
            if ws.is_embedded:
                _init_embedded(ws)
            from mlflow import MlflowClient

            client = MlflowClient(tracking_uri=uri)
            _clients[uri] = client
        return client


def register_read_barrier(barrier: Callable[[Workspace], None]) -> None:
    """Called by the journal at import: reads then wait for the records still queued."""
    if barrier not in _read_barriers:
        _read_barriers.append(barrier)


def read_barrier(ws: Workspace) -> None:
    """Read your own writes: land the records this process (or a dead one) still has queued."""
    for barrier in _read_barriers:
        barrier(ws)


def _artifact_folder(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "experiment"


@overload
def experiment_id(
    ws: Workspace, name: str | None = None, *, create: Literal[True] = True, client: Any = None
) -> str: ...
@overload
def experiment_id(
    ws: Workspace, name: str | None = None, *, create: bool, client: Any = None
) -> str | None: ...
def experiment_id(
    ws: Workspace, name: str | None = None, *, create: bool = True, client: Any = None
) -> str | None:
    """Id of experiment ``name`` (default: the workspace's), created on first use.

    Safe to repeat after a lost answer: a second create finds the experiment already there."""
    name = name or ws.default_experiment
    key = (ws.tracking_uri, name)
    if key in _experiments:
        return _experiments[key]
    client = client or client_for(ws)
    exp = client.get_experiment_by_name(name)
    if exp is None:
        if not create:
            return None
        from mlflow.exceptions import MlflowException

        location = None
        if ws.is_embedded:
            location = (ws.artifacts_dir / _artifact_folder(name)).as_uri()
        try:
            exp_id: str = client.create_experiment(name, artifact_location=location)
        except MlflowException as exc:
            if (
                exc.error_code != "RESOURCE_ALREADY_EXISTS"
                and "already exists" not in str(exc).lower()
            ):
                raise
            exp = client.get_experiment_by_name(name)
            assert exp is not None
            exp_id = exp.experiment_id
    else:
        exp_id = exp.experiment_id
    _experiments[key] = exp_id
    return exp_id


def forget_cached_clients() -> None:
    """Tests that swap stores under one URI call this; production code never needs to."""
    with _guard:
        _clients.clear()
        _experiments.clear()
    for forget in _on_forget:
        forget()


def on_forget(forget: Callable[[], None]) -> None:
    """``forget`` runs whenever the cached clients are forgotten (the gateways register theirs)."""
    if forget not in _on_forget:
        _on_forget.append(forget)
