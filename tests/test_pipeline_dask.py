"""The Dask executor: a LocalCluster, and a `dask scheduler` + `dask worker` as separate processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("distributed")

from ports import free_port
from waiting import wait_until

from jupyter_mlops.pipeline.build import build
from jupyter_mlops.store.client import client_for

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))
from test_pipeline_build import make_notebook  # noqa: E402

YAML = """\
steps:
  sweep:
    notebook: t.ipynb
    sweep:
      parameters: {x: [1, 2, 3]}
      metric: y
  after:
    notebook: after.ipynb
    needs: [sweep]
    outputs: [out.txt]
"""


@pytest.fixture
def project(workspace, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    make_notebook(
        workspace.root / "t.ipynb",
        "x = 0",
        "from jupyter_mlops.pipeline import log_step_metrics\nlog_step_metrics(y=x * 10)",
    )
    make_notebook(
        workspace.root / "after.ipynb",
        "x = 0",
        "from pathlib import Path\nPath('out.txt').write_text(str(x))",
    )
    (workspace.root / "mlops.yaml").write_text(YAML)
    return workspace


def _check(ws, report) -> None:
    assert report.ok, report.table()
    assert report.step("sweep").trials == 3
    assert (ws.root / "out.txt").read_text() == "3"
    client = client_for(ws)
    exps = [e.experiment_id for e in client.search_experiments()]
    trials = client.search_runs(exps, filter_string="tags.`mlops.kind` = 'trial'")
    assert sorted(t.data.metrics["y"] for t in trials) == [10.0, 20.0, 30.0]


def test_local_cluster(project) -> None:
    report = build(workspace=project, executor="dask", jobs=2, progress=False, wait=True)
    _check(project, report)


@pytest.fixture
def dask_processes(tmp_path: Path):
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    bin_dir = Path(sys.executable).parent
    address = f"tcp://127.0.0.1:{port}"
    scheduler = subprocess.Popen(
        [
            str(bin_dir / "dask"),
            "scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--dashboard-address",
            ":0",
            "--no-show",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=tmp_path,
    )
    worker = subprocess.Popen(
        [
            str(bin_dir / "dask"),
            "worker",
            address,
            "--nworkers",
            "2",
            "--nthreads",
            "1",
            "--no-dashboard",
            "--host",
            "127.0.0.1",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=tmp_path,
    )
    try:
        from distributed import Client

        def workers() -> bool:
            with Client(address, timeout=5) as c:
                return len(c.nthreads()) >= 2

        wait_until(
            workers, 60, interval=0.5, message="two dask workers never joined", ignoring=(OSError,)
        )
        yield address
    finally:
        for proc in (worker, scheduler):
            proc.terminate()
        for proc in (worker, scheduler):
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def test_scheduler_and_worker_processes(project, dask_processes: str) -> None:
    report = build(
        workspace=project, executor="dask", scheduler=dask_processes, progress=False, wait=True
    )
    _check(project, report)
    again = build(workspace=project, executor="dask", scheduler=dask_processes, progress=False)
    assert [s.status for s in again.steps] == ["cached", "cached"]


def test_unreachable_scheduler_is_one_clear_error(project) -> None:
    from jupyter_mlops.errors import MlopsError

    with pytest.raises(MlopsError) as info:
        build(
            workspace=project,
            executor="dask",
            scheduler=f"tcp://127.0.0.1:{free_port()}",
            progress=False,
        )
    assert "Dask scheduler" in str(info.value)
