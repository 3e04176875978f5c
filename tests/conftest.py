"""Shared fixtures: a real MLflow store per test, embedded (SQLite) or a team server.

Embedded: a copy of a SQLite store created once per session (creating MLflow's schema costs about
1.6 s; copying the cached file costs milliseconds).

Team: one throwaway PostgreSQL cluster and one `mlflow server` on it (proxied artifacts) per
session, see ``team_server.py``; before each test its tables are emptied, which gives the test a
store as fresh as a new one in about 0.1 s (a new server per test would cost seconds).

The modules in ``BOTH_STORES`` run every test that uses ``workspace`` twice, once per store
(``[embedded]`` / ``[team]`` in the test id). ``MLOPS_TEST_STORES=embedded`` limits a local run to
one store; CI runs both.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

import pytest
import team_server

# a sync agent started by a test (one per test workspace) exits soon after its work is done
os.environ.setdefault("MLOPS_AGENT_IDLE", "2")

pytest_plugins = ["pytest_jupyter.jupyter_server"]


@pytest.fixture(autouse=True)
def _no_tracking_settings_leak():
    """A test that loads the extension in this process (which points MLflow at its workspace in
    ``os.environ``) must not hand that workspace to the next test's subprocesses: each test starts
    with the tracking variables the session started with."""
    names = ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI", "MLOPS_WORKSPACE", "MLOPS_EXPERIMENT")
    before = {k: os.environ.get(k) for k in names}
    yield
    for key, value in before.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


STORES = ("embedded", "team")
# test modules whose `workspace` tests run against both stores
BOTH_STORES = {
    "test_tracking_core",
    "test_tracking_kernels",
    "test_magics",
    "test_snapshots",
    "test_lineage",
    "test_lineage_frontends",
    "test_reproduce",
    "test_reproduce_diffs",
    "test_pipeline_build",
    "test_engine_papermill",
    "test_server_runs",
    "test_server_pipeline_api",
    "test_runs_order",
    "test_gateway_reads",
    "test_secrets_planted",
    "test_model_signing",
    "test_promote_call_path",
}


def _stores_to_run() -> list[str]:
    wanted = os.environ.get("MLOPS_TEST_STORES")
    if not wanted:
        return list(STORES)
    chosen = [s.strip() for s in wanted.split(",") if s.strip()]
    unknown = set(chosen) - set(STORES)
    if unknown:
        raise pytest.UsageError(f"MLOPS_TEST_STORES: unknown store(s) {sorted(unknown)}")
    return chosen


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    module = metafunc.module.__name__.rpartition(".")[2]
    if "store" in metafunc.fixturenames and module in BOTH_STORES:
        stores = _stores_to_run()
        if metafunc.definition.get_closest_marker("embedded_only"):
            stores = [s for s in stores if s == "embedded"]
        if metafunc.definition.get_closest_marker("team_only"):
            stores = [s for s in stores if s == "team"]
        metafunc.parametrize("store", stores, indirect=True)


@pytest.fixture
def store(request: pytest.FixtureRequest) -> str:
    """Which store the test's workspace uses: "embedded" unless the module runs on both."""
    return getattr(request, "param", "embedded")


# --- team mode: PostgreSQL + mlflow server, one of each per session -----------------------------


@pytest.fixture(scope="session")
def pg_cluster():
    """A throwaway PostgreSQL cluster on 127.0.0.1 (fails, never skips, without the binaries)."""
    cluster = team_server.PostgresCluster().start()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def mlflow_template_db(pg_cluster) -> str:
    """Name of a database holding MLflow's migrated schema; clone it with
    ``pg_cluster.create_database(name, template=mlflow_template_db)`` (no migration to wait for)."""
    name = "mlflow_template"
    team_server.migrate(pg_cluster.create_database(name))
    return name


@pytest.fixture(scope="session")
def team_server_session(pg_cluster, mlflow_template_db, tmp_path_factory):
    """The session's `mlflow server` (PostgreSQL backend, proxied artifacts). Tests use
    ``team_tracking`` instead, which empties it first."""
    folder = tmp_path_factory.mktemp("team-server")
    database = "mlflow_team"
    uri = pg_cluster.create_database(database, template=mlflow_template_db)
    server = team_server.MlflowServer(uri, folder / "artifacts", folder).start()
    server.database = database
    yield server
    server.stop()


@pytest.fixture
def team_tracking(team_server_session, pg_cluster) -> team_server.MlflowServer:
    """The team server, emptied for this test (tables truncated, artifacts removed)."""
    team_server.reset_tracking_db(pg_cluster, team_server_session.database)
    artifacts = team_server_session.artifacts_dir
    for child in artifacts.iterdir():
        shutil.rmtree(child, ignore_errors=True)
    return team_server_session


@pytest.fixture(scope="session")
def auth_server(pg_cluster, mlflow_template_db, tmp_path_factory):
    """An `mlflow server` with MLflow's basic-auth app and two users, ``alice`` and ``bob``
    (``auth_server.users[name]`` is the password; the admin is ``team_server.AUTH_ADMIN``)."""
    folder = tmp_path_factory.mktemp("auth-server")
    uri = pg_cluster.create_database("mlflow_auth_tracking", template=mlflow_template_db)
    users_db = pg_cluster.create_database("mlflow_auth_users")
    config = team_server.write_auth_config(folder, users_db)
    env = {"MLFLOW_AUTH_CONFIG_PATH": str(config), "MLFLOW_FLASK_SERVER_SECRET_KEY": "test-key"}
    server = team_server.MlflowServer(uri, folder / "artifacts", folder, "basic-auth", env)
    server.start()
    server.users = {"alice": "alice-pw-12345", "bob": "bob-pw-123456"}
    for name, password in server.users.items():
        team_server.create_user(server.url, name, password)
    yield server
    server.stop()


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


def _forget_store_caches() -> None:
    from jupyter_mlops.datasets.api import forget_described
    from jupyter_mlops.datasets.versions import forget_known
    from jupyter_mlops.store.client import forget_cached_clients

    forget_cached_clients()
    forget_known()
    forget_described()


@pytest.fixture
def workspace(tmp_path: Path, store: str, request: pytest.FixtureRequest, monkeypatch):
    """A fresh project folder with an empty store: by default an embedded one (a copy of the
    cached schema); in a `BOTH_STORES` module also the emptied team server, through
    ``MLFLOW_TRACKING_URI`` (which kernels and subprocesses inherit)."""
    from jupyter_mlops.workspace import Workspace

    root = tmp_path / "project"
    state = root / ".mlops"
    state.mkdir(parents=True)
    for var in ("MLFLOW_TRACKING_URI", "MLOPS_WORKSPACE", "MLOPS_EXPERIMENT"):
        monkeypatch.delenv(var, raising=False)
    for var in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    if store == "team":
        server = request.getfixturevalue("team_tracking")
        monkeypatch.setenv("MLFLOW_TRACKING_URI", server.url)
    else:
        cached_db = request.getfixturevalue("cached_db")
        shutil.copy(cached_db, state / "mlflow.db")
        with sqlite3.connect(state / "mlflow.db") as con:
            con.execute(
                "UPDATE experiments SET artifact_location = ? WHERE experiment_id = 0",
                ((state / "artifacts" / "Default").as_uri(),),
            )
    monkeypatch.chdir(root)
    _forget_store_caches()
    ws = Workspace.find(root)
    yield ws
    from jupyter_mlops.capture import tracker

    tracker.shutdown_recorders()
    _forget_store_caches()


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
