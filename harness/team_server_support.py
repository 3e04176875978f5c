"""Project folders and ``jupyter-mlops serve`` replicas on the team server of the conftest
fixtures (PostgreSQL + ``mlflow server``): each folder points at it through ``tracking_uri`` in
its mlops.yaml, as a teammate's clone would.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
from ports import free_port
from waiting import wait_until


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
    def ready() -> bool:
        assert proc.poll() is None, log.read_text()[-3000:]
        return httpx.get(url + "/ping", timeout=2).status_code == 200

    wait_until(
        ready,
        timeout,
        interval=0.2,
        message=lambda: f"replica {url} not ready: {log.read_text()[-3000:]}",
        ignoring=(httpx.HTTPError,),
    )


def stop_gracefully(proc: subprocess.Popen, timeout: float = 60) -> int:
    """SIGTERM, as an orchestrator stops a container: the replica ships its log and exits."""
    if proc.poll() is None:
        proc.terminate()
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()
