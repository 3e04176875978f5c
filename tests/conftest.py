"""Shared fixtures: a real SQLite MLflow store per test, copied from one created per session.

Creating MLflow's schema costs about 1.6 s; copying the cached file costs milliseconds.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

import pytest

# a sync agent started by a test (one per test workspace) exits soon after its work is done
os.environ.setdefault("MLOPS_AGENT_IDLE", "2")

pytest_plugins = ["pytest_jupyter.jupyter_server"]


@pytest.fixture(scope="session")
def cached_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    from jupyter_mlops.store.client import use_wal

    folder = tmp_path_factory.mktemp("cached-store")
    db = folder / "mlflow.db"
    store = SqlAlchemyStore(f"sqlite:///{db}", (folder / "artifacts").as_uri())
    store.engine.dispose()
    use_wal(db)
    return db


@pytest.fixture
def workspace(tmp_path: Path, cached_db: Path, monkeypatch: pytest.MonkeyPatch):
    """A fresh project folder whose embedded store is a copy of the cached schema."""
    from jupyter_mlops.store.client import forget_cached_clients
    from jupyter_mlops.workspace import Workspace

    root = tmp_path / "project"
    state = root / ".mlops"
    state.mkdir(parents=True)
    shutil.copy(cached_db, state / "mlflow.db")
    with sqlite3.connect(state / "mlflow.db") as con:
        con.execute(
            "UPDATE experiments SET artifact_location = ? WHERE experiment_id = 0",
            ((state / "artifacts" / "Default").as_uri(),),
        )
    for var in ("MLFLOW_TRACKING_URI", "MLOPS_WORKSPACE", "MLOPS_EXPERIMENT"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(root)
    forget_cached_clients()
    ws = Workspace.find(root)
    yield ws
    from jupyter_mlops.capture import tracker

    tracker.shutdown_recorders()
    forget_cached_clients()


@pytest.fixture
def mlops_shell():
    """The real IPython shell with the extension loaded through `%load_ext` (and unloaded after)."""
    import IPython
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.testing.globalipapp import start_ipython

    # start_ipython answers only once per process; a test may also have cleared the instance
    shell = start_ipython() or IPython.get_ipython() or InteractiveShell.instance()
    shell.run_line_magic("load_ext", "jupyter_mlops")
    yield shell
    shell.run_line_magic("unload_ext", "jupyter_mlops")
    shell.reset()
