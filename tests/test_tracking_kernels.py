"""Tracking in real kernels executed by papermill: parameters, a killed kernel, a server outage."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from notebook_support import make_notebook
from ports import free_port
from waiting import wait_until

from jupyter_mlops.capture import tracker
from jupyter_mlops.journal.recovery import recover
from jupyter_mlops.store.client import client_for, forget_cached_clients
from jupyter_mlops.store.gateway import gateway_for
from jupyter_mlops.store.runs import recent_runs
from jupyter_mlops.workspace import Workspace


def _notebook(path: Path, *sources: str, parameters: str | None = None) -> Path:
    return make_notebook(path, parameters, *sources)


def _execute(nb: Path, root: Path, **kwargs):
    import papermill

    return papermill.execute_notebook(
        str(nb), str(nb.with_suffix(".out.ipynb")), cwd=str(root), progress_bar=False, **kwargs
    )


def test_papermill_parameters_and_notebook_path_tag_the_runs(workspace):
    nb = _notebook(
        workspace.root / "train.ipynb",
        "%load_ext jupyter_mlops",
        "%%mlops track --name trained --metrics score\nscore = alpha * 2",
        parameters="alpha = 0.1",
    )
    _execute(nb, workspace.root, parameters={"alpha": 0.25}, engine_name="mlops")
    [run] = [r for r in recent_runs(gateway_for(workspace)) if r["name"] == "trained"]
    assert run["metrics"]["score"] == 0.5
    assert run["tags"]["mlops.param.alpha"] == "0.25"
    assert run["tags"]["mlops.notebook"].endswith("train.ipynb")


def test_a_killed_kernel_leaves_no_run_running_and_loses_no_metric(workspace):
    import papermill

    nb = _notebook(
        workspace.root / "dies.ipynb",
        "%load_ext jupyter_mlops",
        "%%mlops track --name doomed\n"
        "import os, signal, jupyter_mlops\n"
        "for i in range(20):\n"
        "    jupyter_mlops.log_metrics(step_metric=float(i))\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n",
    )
    with pytest.raises((papermill.PapermillExecutionError, RuntimeError, Exception)):
        _execute(nb, workspace.root)
    result = recover(workspace)  # the next use of the workspace replays the dead kernel's journal
    assert result.error is None
    [run] = [r for r in recent_runs(gateway_for(workspace)) if r["name"] == "doomed"]
    assert run["status"] == "FAILED"
    assert run["tags"]["mlops.failure"].startswith("the process recording this run died")
    history = client_for(workspace).get_metric_history(run["run_id"], "step_metric")
    assert sorted(m.value for m in history) == [float(i) for i in range(20)]
    assert list((workspace.state_dir / "outbox").glob("*.db")) == []


class MlflowServer:
    def __init__(self, folder: Path, port: int) -> None:
        self.folder, self.port, self.proc = folder, port, None

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        mlflow = Path(sys.executable).with_name("mlflow")
        self.proc = subprocess.Popen(
            [
                str(mlflow),
                "server",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--backend-store-uri",
                f"sqlite:///{self.folder / 'server.db'}",
                "--artifacts-destination",
                (self.folder / "server-artifacts").as_uri(),
                "--workers",
                "1",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        import urllib.request

        wait_until(  # about 15 s on a quiet machine; over a minute at a load average of 12
            lambda: urllib.request.urlopen(f"{self.uri}/health", timeout=1).status == 200,
            180,
            interval=0.3,
            message="mlflow server did not start",
            ignoring=(OSError,),
        )

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)


@pytest.mark.slow
def test_server_down_mid_notebook_every_metric_arrives_exactly_once(tmp_path, monkeypatch):
    root = tmp_path / "proj"
    root.mkdir()
    (root / "mlops.yaml").write_text("project: remote\n")
    server = MlflowServer(tmp_path, free_port())
    server.start()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", server.uri)
    monkeypatch.delenv("MLOPS_WORKSPACE", raising=False)
    gate = root / "gate"
    nb = _notebook(
        root / "remote.ipynb",
        "%load_ext jupyter_mlops",
        "%%mlops track --name before\nimport jupyter_mlops\nfor i in range(10):\n    jupyter_mlops.log_metrics(m=float(i))",
        "%mlops sync",
        f"import pathlib, time\npathlib.Path({str(gate)!r} + '.down').touch()\n"
        f"while not pathlib.Path({str(gate)!r} + '.go').exists(): time.sleep(0.1)",
        "import time\nt = time.perf_counter()",
        "%%mlops track --name during\nfor i in range(10, 20):\n    jupyter_mlops.log_metrics(m=float(i))",
        "cell_seconds = time.perf_counter() - t\nassert cell_seconds < 2, cell_seconds",
    )
    errors: list[BaseException] = []

    def run() -> None:
        try:
            _execute(nb, root)
        except BaseException as exc:
            errors.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    try:

        def server_may_go_down() -> bool:
            assert worker.is_alive(), errors
            return Path(f"{gate}.down").exists()

        wait_until(server_may_go_down, 120, message=lambda: f"the notebook never paused: {errors}")
        server.stop()
        Path(f"{gate}.go").touch()
        worker.join(120)
        assert not errors, errors
        server.start()  # back, after the kernel has gone: its journal waits on disk
        ws = Workspace.find(root)
        forget_cached_clients()
        out = subprocess.run(
            [str(Path(sys.executable).with_name("jupyter-mlops")), "-C", str(root), "sync"],
            capture_output=True,
            text=True,
            env={**os.environ},
            timeout=120,
        )
        assert out.returncode == 0, out.stderr + out.stdout
        runs = {r["name"]: r for r in recent_runs(gateway_for(ws))}
        assert runs["during"]["status"] == "FINISHED"
        values = []
        for name in ("before", "during"):
            values += [
                m.value for m in client_for(ws).get_metric_history(runs[name]["run_id"], "m")
            ]
        assert sorted(values) == [float(i) for i in range(20)]
    finally:
        tracker.shutdown_recorders(timeout=1)
        server.stop()
