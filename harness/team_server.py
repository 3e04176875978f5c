"""Real team-mode services for the tests: a throwaway PostgreSQL cluster and `mlflow server` on it.

- ``PostgresCluster``: Debian's server binaries (``/usr/lib/postgresql/<version>/bin``), a data
  folder in a temp dir, a free port on 127.0.0.1. PostgreSQL refuses to run as root, so as root the
  cluster runs as the ``postgres`` user (``runuser``). Durability is switched off (``fsync=off``):
  the cluster lives for one test session.
- ``MlflowServer``: ``mlflow server --backend-store-uri postgresql+psycopg://...
  --artifacts-destination DIR --workers 1`` on a free port, optionally with the ``basic-auth`` app.
- ``reset_tracking_db``: empties every MLflow table (keeping the schema and the Default
  experiment), so one server per session serves every test with a store as fresh as a new one.

Missing binaries raise ``TeamServerUnavailable`` with the package to install: the fixtures fail
loudly instead of skipping.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ports import free_port
from waiting import wait_until

PG_BIN_GLOB = "/usr/lib/postgresql/*/bin"
PG_USER = "postgres"
# the Default experiment and the schema's bookkeeping survive a reset
KEEP_TABLES = {"alembic_version"}


class TeamServerUnavailable(RuntimeError):
    """A service the team-mode tests need cannot start; the message says what to install."""


def pg_bin_dir() -> Path:
    """The newest installed PostgreSQL server's bin folder."""
    found = [Path(p) for p in glob.glob(PG_BIN_GLOB) if Path(p, "initdb").is_file()]
    if not found:
        raise TeamServerUnavailable(
            f"no PostgreSQL server binaries under {PG_BIN_GLOB} (initdb, pg_ctl): "
            "install Debian's `postgresql` package (apt-get install -y postgresql)"
        )
    return max(found, key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)


def _as_pg_user(argv: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return argv
    return ["runuser", "-u", PG_USER, "--", *argv]


def _give_to_pg_user(path: Path) -> None:
    if os.geteuid() == 0:
        shutil.chown(path, PG_USER, PG_USER)


def _private_folder() -> Path:
    """A folder of its own in the system's temp dir. Not under pytest's basetemp: pytest keeps
    that private to its user (0700) and re-tightens it whenever another session starts, which
    would lock the ``postgres`` user out of a running cluster."""
    return Path(tempfile.mkdtemp(prefix="mlops-postgres-"))


@dataclass
class PostgresCluster:
    folder: Path = field(default_factory=_private_folder)
    port: int = 0
    bin_dir: Path = field(default_factory=pg_bin_dir)

    @property
    def data_dir(self) -> Path:
        return self.folder / "data"

    @property
    def socket_dir(self) -> Path:
        return self.folder / "sock"

    def start(self) -> PostgresCluster:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.folder.chmod(0o755)
        self.socket_dir.mkdir(exist_ok=True)
        _give_to_pg_user(self.folder)
        _give_to_pg_user(self.socket_dir)
        self._run(
            [str(self.bin_dir / "initdb"), "-D", str(self.data_dir), "-A", "trust"]
            + ["-U", PG_USER, "--no-sync", "-E", "UTF8"]
        )
        self.port = self.port or free_port()
        options = (
            f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=200"
        )
        self._run(
            [str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-o", options]
            + ["-l", str(self.folder / "postgres.log"), "-w", "-t", "60", "start"]
        )
        return self

    def stop(self) -> None:
        """Stop the server and remove its folder."""
        if self.data_dir.exists():
            subprocess.run(
                _as_pg_user(
                    [str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir)]
                    + ["-m", "immediate", "-w", "stop"]
                ),
                capture_output=True,
                check=False,
            )
        shutil.rmtree(self.folder, ignore_errors=True)

    def _run(self, argv: list[str]) -> None:
        done = subprocess.run(_as_pg_user(argv), capture_output=True, text=True, check=False)
        if done.returncode != 0:
            log = self.folder / "postgres.log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise TeamServerUnavailable(
                f"{Path(argv[0]).name} failed ({done.returncode}): {done.stderr.strip()}\n{tail}"
            )

    def uri(self, database: str = "postgres", driver: str = "postgresql+psycopg") -> str:
        return f"{driver}://{PG_USER}@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str = "postgres"):
        import psycopg

        return psycopg.connect(self.uri(database, driver="postgresql"), autocommit=True)

    def create_database(self, name: str, template: str | None = None) -> str:
        """A new database (a copy of ``template`` when given: milliseconds, no migration)."""
        from psycopg import sql

        query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            query = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(template)
            )
        with self.connect() as con:
            con.execute(query)
        return self.uri(name)


def migrate(database_uri: str) -> None:
    """Create MLflow's schema in an empty database (what a server's first start does)."""
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    store = SqlAlchemyStore(database_uri, "file:///nonexistent-artifacts")
    store.engine.dispose()


def reset_tracking_db(cluster: PostgresCluster, database: str) -> float:
    """Empty every MLflow table but keep the schema and the Default experiment. Seconds taken.

    A session that keeps a lock on a table past ``lock_timeout`` (a request the server still
    serves for a process the last test left behind) is ended, and the reset tried once more:
    the server's pool pings a connection before reusing it, so it only opens a new one."""
    import psycopg

    started = time.perf_counter()
    try:
        _truncate(cluster, database)
    except psycopg.errors.LockNotAvailable:
        blockers = _end_lock_holders(cluster, database)
        print(f"reset of {database}: ended {len(blockers)} session(s) holding locks: {blockers}")
        _truncate(cluster, database)
    return time.perf_counter() - started


def _end_lock_holders(cluster: PostgresCluster, database: str) -> list[tuple[Any, ...]]:
    """End every other session on ``database`` that holds a lock; what each was doing."""
    with cluster.connect() as con:
        rows = con.execute(
            "SELECT a.pid, a.state, left(a.query, 80), now() - a.xact_start"
            " FROM pg_stat_activity a WHERE a.datname = %s AND a.pid <> pg_backend_pid()"
            " AND EXISTS (SELECT 1 FROM pg_locks l WHERE l.pid = a.pid AND l.granted)",
            (database,),
        ).fetchall()
        for row in rows:
            con.execute("SELECT pg_terminate_backend(%s)", (row[0],))
    return rows


def _truncate(cluster: PostgresCluster, database: str) -> None:
    with cluster.connect(database) as con:
        con.execute("SET lock_timeout = '10s'")
        tables = [
            row[0]
            for row in con.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            ).fetchall()
            if row[0] not in KEEP_TABLES
        ]
        default = con.execute(
            "SELECT name, artifact_location, lifecycle_stage, creation_time, last_update_time"
            " FROM experiments WHERE experiment_id = 0"
        ).fetchone()
        with con.transaction():
            con.execute(
                "TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"
            )
            if default is not None:
                con.execute(
                    "INSERT INTO experiments (experiment_id, name, artifact_location,"
                    " lifecycle_stage, creation_time, last_update_time)"
                    " VALUES (0, %s, %s, %s, %s, %s)",
                    default,
                )
            # experiment ids continue after 0, as in a new store
            con.execute(
                "SELECT setval(pg_get_serial_sequence('experiments', 'experiment_id'), 1, false)"
            )


@dataclass
class MlflowServer:
    backend_uri: str
    artifacts_dir: Path
    folder: Path
    app_name: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 120.0) -> MlflowServer:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.artifacts_dir.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        mlflow = Path(sys.executable).with_name("mlflow")
        argv = [str(mlflow) if mlflow.exists() else "mlflow", "server"]
        argv += ["--backend-store-uri", self.backend_uri]
        argv += ["--artifacts-destination", str(self.artifacts_dir)]
        argv += ["--workers", "1", "--host", "127.0.0.1", "--port", str(self.port)]
        if self.app_name:
            argv += ["--app-name", self.app_name]
        # no background job runner (six worker processes the tests never use)
        env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false", **self.env}
        for var in ("MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"):
            env.pop(var, None)
        log = open(self.folder / "server.log", "ab")  # noqa: SIM115 (lives with the process)
        self.process = subprocess.Popen(
            argv,
            cwd=self.folder,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self._wait_healthy(timeout)
        return self

    def _wait_healthy(self, timeout: float) -> None:
        def healthy() -> bool:
            if self.process is not None and self.process.poll() is not None:
                raise TeamServerUnavailable(f"mlflow server exited:\n{self.log_tail()}")
            with urllib.request.urlopen(f"{self.url}/health", timeout=2) as answer:
                return answer.status == 200

        try:
            wait_until(healthy, timeout, interval=0.2, ignoring=(OSError, urllib.error.URLError))
        except AssertionError:
            self.stop()
            raise TeamServerUnavailable(
                f"mlflow server not healthy in {timeout:.0f} s:\n{self.log_tail()}"
            ) from None

    def log_tail(self, chars: int = 3000) -> str:
        log = self.folder / "server.log"
        return log.read_text(errors="replace")[-chars:] if log.exists() else ""

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        # the server forks workers in its own session: end the whole group it leads
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait(timeout=5)


# --- MLflow's basic-auth app --------------------------------------------------------------------

AUTH_ADMIN = ("admin", "admin-secret-pw-1")


def write_auth_config(folder: Path, database_uri: str) -> Path:
    """The basic-auth app's ini: its own user database, a known admin, READ for everyone."""
    config = folder / "basic_auth.ini"
    config.write_text(
        "[mlflow]\n"
        "default_permission = READ\n"
        f"database_uri = {database_uri}\n"
        f"admin_username = {AUTH_ADMIN[0]}\n"
        f"admin_password = {AUTH_ADMIN[1]}\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
        # a password check is a deliberately slow hash (seconds on a busy machine): remember
        # successful ones, or every request of a test pays it
        "auth_cache_ttl_seconds = 3600\n"
    )
    return config


def auth_request(
    url: str, path: str, payload: dict, user: tuple[str, str] = AUTH_ADMIN, method: str = "POST"
) -> dict:
    """Call the auth app's REST API as ``user``; the decoded JSON answer."""
    import base64
    import json

    token = base64.b64encode(f"{user[0]}:{user[1]}".encode()).decode()
    request = urllib.request.Request(
        f"{url}{path}",
        data=json.dumps(payload).encode(),
        method=method,
        headers={"Authorization": f"Basic {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        text = answer.read().decode()
    return json.loads(text) if text else {}


def create_user(url: str, username: str, password: str) -> None:
    auth_request(url, "/api/2.0/mlflow/users/create", {"username": username, "password": password})
