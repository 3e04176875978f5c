"""The sync agent: kernels only journal; one agent process per workspace lands everything.

Real kernels through papermill, a real agent process, a real SQLite MLflow store.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from notebook_support import make_notebook
from waiting import wait_until

import jupyter_mlops
from jupyter_mlops.capture import tracker
from jupyter_mlops.journal import agent_control
from jupyter_mlops.journal.sync import outbox_counts
from jupyter_mlops.settings import Settings
from jupyter_mlops.store.client import client_for
from jupyter_mlops.store.gateway import gateway_for
from jupyter_mlops.store.runs import recent_runs


def test_a_tracked_kernel_fitting_a_model_never_imports_mlflow(workspace):
    import papermill

    report = workspace.root / "modules.json"
    nb = make_notebook(
        workspace.root / "light.ipynb",
        None,
        "%load_ext jupyter_mlops",
        "%%mlops track --name light\n"
        "from sklearn.linear_model import LogisticRegression\n"
        "X_train = [[0.0, 1.0], [1.0, 0.0], [0.2, 0.8], [0.9, 0.2]]\n"
        "clf = LogisticRegression().fit(X_train, [0, 1, 0, 1])",
        "import sys, json\n"
        f"json.dump(sorted(m for m in sys.modules if m.split('.')[0] == 'mlflow'), open({str(report)!r}, 'w'))",
    )
    papermill.execute_notebook(
        str(nb), str(nb.with_suffix(".out.ipynb")), cwd=str(workspace.root), progress_bar=False
    )
    assert json.loads(report.read_text()) == []
    [run] = [r for r in recent_runs(gateway_for(workspace)) if r["name"] == "light"]
    assert run["status"] == "FINISHED"
    got = client_for(workspace).get_run(run["run_id"])
    [output] = got.outputs.model_outputs
    model = client_for(workspace).get_logged_model(output.model_id)
    assert str(model.status).endswith("READY")
    assert model.model_id in got.data.tags["mlops.model.clf"]


def _agent_pid(ws) -> int:
    return wait_until(
        lambda: agent_control.read_status(ws).get("pid") if agent_control.is_running(ws) else None,
        60,
        interval=0.01,
        message="the agent never started",
    )


def test_kill_9_of_the_agent_mid_batch_loses_and_duplicates_nothing(workspace):
    from sklearn.linear_model import LogisticRegression

    X, y = [[0.0, 1.0], [1.0, 0.0], [0.2, 0.8], [0.9, 0.2]], [0, 1, 0, 1]
    with jupyter_mlops.track(name="big", workspace=workspace) as run:
        pid = _agent_pid(workspace)
        box = run._sink.box
        with run.batch():  # one commit: the agent finds it all at once
            for i in range(3000):
                jupyter_mlops.log_metrics({"m": float(i)}, step=i)
            for i in range(4):
                jupyter_mlops.log_model(LogisticRegression().fit(X, y), name=f"clf{i}", X=X)
        total = box.pending()
        wait_until(lambda: box.pending() < total, 60, interval=0.01, message="the agent never sent")
        os.kill(pid, signal.SIGKILL)
    killed_with = box.pending()
    assert killed_with > 0, "the kill came after the batch: nothing tested"
    with jupyter_mlops.track(name="after", workspace=workspace) as later:
        jupyter_mlops.log_metrics(after=1.0)  # the next tracked record restarts the agent
    later.wait_synced(timeout=120)
    run_id = run.wait_synced(timeout=120)
    assert agent_control.read_status(workspace)["pid"] != pid
    client = client_for(workspace)
    history = client.get_metric_history(run_id, "m")
    assert sorted(m.step for m in history) == list(range(3000))
    got = client.get_run(run_id)
    linked = [o.model_id for o in got.outputs.model_outputs]
    assert len(linked) == len(set(linked)) == 4
    exp = got.info.experiment_id
    models = client.search_logged_models(experiment_ids=[exp])
    assert len(models) == 4 and all(str(m.status).endswith("READY") for m in models)
    assert outbox_counts(workspace).failed == 0


def test_agent_status_and_stop_from_the_command_line(workspace):
    cli = str(Path(sys.executable).with_name("jupyter-mlops"))

    def run(*args: str) -> str:
        out = subprocess.run(
            [cli, "-C", str(workspace.root), "agent", *args],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert out.returncode == 0, out.stderr
        return out.stdout

    assert "not running" in run("status")
    assert "started" in run("start")
    assert "running (pid" in run("status")
    assert "stopped" in run("stop")
    assert not agent_control.is_running(workspace)
    tracker.shutdown_recorders()


def test_an_idle_agent_stops_by_itself(workspace, monkeypatch):
    monkeypatch.setenv(Settings.agent_idle.env, "0.5")
    with jupyter_mlops.track(workspace=workspace) as run:
        jupyter_mlops.log_metrics(x=1.0)
    run.wait_synced()
    tracker.shutdown_recorders()
    wait_until(
        lambda: not agent_control.is_running(workspace),
        30,
        interval=0.01,
        message="the agent never stopped",
    )


def test_a_build_goes_on_offline_and_lands_later_with_its_links(tmp_path, monkeypatch, capsys):
    from ports import free_port
    from test_tracking_kernels import MlflowServer

    from jupyter_mlops.journal.sync import sync_workspace
    from jupyter_mlops.pipeline.build import build
    from jupyter_mlops.store.client import forget_cached_clients
    from jupyter_mlops.workspace import Workspace

    root = tmp_path / "proj"
    root.mkdir()
    make_notebook(
        root / "a.ipynb",
        "n = 1",
        "from pathlib import Path\nfrom jupyter_mlops.pipeline import log_step_metrics\n"
        "Path('a.txt').write_text(str(n))\nlog_step_metrics(value=n * 2)",
    )
    (root / "mlops.yaml").write_text(
        "project: offline\nexperiment: offline\nsteps:\n  a:\n    notebook: a.ipynb\n"
        "    parameters: {n: 3}\n    outputs: [a.txt]\n"
    )
    server = MlflowServer(tmp_path, free_port())  # not started: nothing answers there
    monkeypatch.setenv("MLFLOW_TRACKING_URI", server.uri)
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).resolve().parents[1]))
    monkeypatch.delenv("MLOPS_WORKSPACE", raising=False)
    forget_cached_clients()
    ws = Workspace.find(root)
    try:
        started = time.monotonic()
        report = build(workspace=ws, progress=True)
        took = time.monotonic() - started
        assert [s.status for s in report.steps] == ["ran"], report.table()
        captured = capsys.readouterr()
        printed = (captured.out + captured.err).splitlines()
        said = [line for line in printed if "unreachable" in line]
        assert len(said) == 1, said
        assert took < 40, took
        server.start()
        result = wait_until(
            lambda: (answer := sync_workspace(ws, timeout=30)).pending == 0 and answer,
            120,
            interval=0,
            message="sync never drained the journal",
        )
        assert result.failed == 0, result.describe()
        from mlflow import MlflowClient

        client = MlflowClient(server.uri)
        exp = client.get_experiment_by_name("offline")
        runs = {r.data.tags["mlops.kind"]: r for r in client.search_runs([exp.experiment_id])}
        assert runs["step"].data.tags["mlflow.parentRunId"] == runs["pipeline"].info.run_id
        assert runs["step"].data.metrics["value"] == 6
    finally:
        tracker.shutdown_recorders(timeout=1)
        agent_control.stop(ws, timeout=5)
        server.stop()
        forget_cached_clients()
