"""A throwaway team server for the fleet tests: PostgreSQL (Debian's binaries, run as the
``postgres`` user) on a free port of 127.0.0.1, and a real ``mlflow server`` on it with proxied
artifacts. Project folders point at it through ``tracking_uri`` in their mlops.yaml.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(cmd: str) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", "sh", "-c", cmd]
    return ["sh", "-c", cmd]


def have_postgres() -> bool:
    return (PG_BIN / "initdb").exists()


@dataclass
class TeamServer:
    url: str
    pg_dir: Path
    process: subprocess.Popen

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
        subprocess.run(
            _as_postgres(f"{PG_BIN}/pg_ctl -D {self.pg_dir / 'data'} -m fast stop"),
            capture_output=True,
            check=False,
        )
        shutil.rmtree(self.pg_dir, ignore_errors=True)


def start_team_server(base: Path) -> TeamServer:
    # its own temp folder: pytest's are private to root, and PostgreSQL runs as ``postgres``
    pg_dir = Path(tempfile.mkdtemp(prefix="mlops-pg-"))
    os.chmod(pg_dir, 0o755)
    if os.geteuid() == 0:
        shutil.chown(pg_dir, "postgres")
    port = free_port()
    data, sock = pg_dir / "data", pg_dir
    subprocess.run(
        _as_postgres(f"{PG_BIN}/initdb -D {data} -A trust -U postgres"),
        check=True,
        capture_output=True,
    )
    opts = f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        _as_postgres(f"{PG_BIN}/pg_ctl -D {data} -o '{opts}' -l {pg_dir / 'log'} -w start"),
        check=True,
        capture_output=True,
    )
    subprocess.run(
        _as_postgres(f"{PG_BIN}/createdb -h 127.0.0.1 -p {port} -U postgres mlflow"),
        check=True,
        capture_output=True,
    )
    http_port = free_port()
    artifacts = base / "server-artifacts"
    artifacts.mkdir()
    log = (base / "mlflow-server.log").open("wb")
    mlflow_bin = Path(sys.executable).with_name("mlflow")
    proc = subprocess.Popen(
        [
            str(mlflow_bin),
            "server",
            "--backend-store-uri",
            f"postgresql+psycopg://postgres@127.0.0.1:{port}/mlflow",
            "--artifacts-destination",
            str(artifacts),
            "--host",
            "127.0.0.1",
            "--port",
            str(http_port),
            "--workers",
            "2",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=base,
    )
    server = TeamServer(f"http://127.0.0.1:{http_port}", pg_dir, proc)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            server.stop()
            raise RuntimeError((base / "mlflow-server.log").read_text()[-3000:])
        try:
            if httpx.get(server.url + "/health", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    server.stop()
    raise RuntimeError("mlflow server did not answer /health in 120 s")


def team_server_fixture(tmp_path_factory):
    server = start_team_server(tmp_path_factory.mktemp("team"))
    yield server
    server.stop()


def project(root: Path, tracking_uri: str, name: str = "fleet", extra: str = "") -> Path:
    """A project folder whose mlops.yaml points at the team server."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "mlops.yaml").write_text(f"project: {name}\ntracking_uri: {tracking_uri}\n{extra}")
    return root


def replica(folder: Path, model: str, name: str, *extra: str) -> tuple[subprocess.Popen, str]:
    """``jupyter-mlops serve MODEL`` as its own process in ``folder``: (process, url)."""
    port = free_port()
    log = (folder / "serve.log").open("wb")
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("jupyter-mlops")),
            "serve",
            model,
            "--port",
            str(port),
            *extra,
        ],
        cwd=folder,
        env={**os.environ, "MLOPS_REPLICA": name},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    return proc, f"http://127.0.0.1:{port}"


def wait_ready(proc: subprocess.Popen, url: str, log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(log.read_text()[-3000:])
        try:
            if httpx.get(url + "/ping", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"replica {url} not ready: {log.read_text()[-3000:]}")


def stop_gracefully(proc: subprocess.Popen, timeout: float = 60) -> int:
    """SIGTERM, as an orchestrator stops a container: the replica ships its log and exits."""
    if proc.poll() is None:
        proc.terminate()
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()
