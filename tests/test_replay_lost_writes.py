"""Every upload resumes: a team server behind a proxy that loses the answer of every 3rd write.

The server does each write; the agent sees every third one fail. A tracked cell's records make
many writes (its text files, a folder of files, a dataset version with its snapshot, a model's
files), so a record that started over at each retry would never finish: each of its uploads is
its own confirmed step, and a retry resumes after the last one. Everything must land exactly
once, with nothing left queued or refused.
"""

from __future__ import annotations

import pytest
from fault_proxy import FaultProxy
from waiting import wait_until

from jupyter_mlops.capture import tracker
from jupyter_mlops.journal import agent_control
from jupyter_mlops.journal.sync import outbox_counts, sync_workspace
from jupyter_mlops.store.client import forget_cached_clients
from jupyter_mlops.workspace import Workspace

CELL = """%%mlops track --name lossy --metrics score
import pandas as pd
from pathlib import Path
from sklearn.linear_model import LogisticRegression
import jupyter_mlops
frame = pd.read_csv("points.csv")
clf = LogisticRegression().fit(frame[["a", "b"]], frame["y"])
score = clf.score(frame[["a", "b"]], frame["y"])
for step in range(5):
    jupyter_mlops.log_metrics(loss=1.0 / (step + 1))
report = Path("report")
report.mkdir(exist_ok=True)
for name in ("one.txt", "two.txt", "sub/three.txt"):
    (report / name).parent.mkdir(exist_ok=True)
    (report / name).write_text(name)
jupyter_mlops.active_run().log_artifact(report, "report")
"""


@pytest.mark.slow
def test_every_record_lands_once_when_every_third_write_loses_its_answer(
    team_tracking, mlops_shell, tmp_path, monkeypatch
):
    from mlflow import MlflowClient

    proxy = FaultProxy(team_tracking.port, lose_every_write=3).start()
    root = tmp_path / "proj"
    root.mkdir()
    (root / "mlops.yaml").write_text("project: lossy\n")
    rows = ["a,b,y"] + [f"{i % 7 / 7},{i % 5 / 5},{i % 2}" for i in range(60)]
    (root / "points.csv").write_text("\n".join(rows) + "\n")
    monkeypatch.chdir(root)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", proxy.uri)
    for var in ("MLOPS_WORKSPACE", "MLOPS_EXPERIMENT", "MLFLOW_HTTP_REQUEST_MAX_RETRIES"):
        monkeypatch.delenv(var, raising=False)
    forget_cached_clients()
    ws = Workspace.find(root)
    try:
        result = mlops_shell.run_cell(CELL)
        assert result.error_in_exec is None, result.error_in_exec
        tracker.shutdown_recorders(timeout=1)  # the kernel is gone: the agent lands its journal
        report = wait_until(
            lambda: (answer := sync_workspace(ws, timeout=30)).pending == 0 and answer,
            300,
            interval=0,
            message="records stayed queued",
        )
        assert report.failed == 0 and outbox_counts(ws).failed == 0, report.describe()
        assert proxy.counts["lost_after"] >= 10, proxy.counts  # the rule really bit

        proxy.enabled = False  # artifact reads resolve mlflow-artifacts: through the env URI
        client = MlflowClient(team_tracking.url)
        runs = {}
        for exp in client.search_experiments():
            for run in client.search_runs([exp.experiment_id]):
                runs.setdefault(run.data.tags.get("mlops.kind"), []).append(run)
        [cell] = runs["cell"]  # one run, not one per retry of its creation
        [version] = runs["dataset"]  # one dataset version, its snapshot uploaded once
        assert cell.info.status == version.info.status == "FINISHED"
        assert cell.data.metrics["score"] > 0.5
        losses = client.get_metric_history(cell.info.run_id, "loss")
        assert sorted(m.step for m in losses) == list(range(5))  # each point once
        texts = {a.path for a in client.list_artifacts(cell.info.run_id, "mlops")}
        assert {"mlops/cell.py", "mlops/environment.json", "mlops/history.json"} <= texts
        files = {a.path for a in client.list_artifacts(cell.info.run_id, "report")}
        assert files == {"report/one.txt", "report/two.txt", "report/sub"}
        [sub] = client.list_artifacts(cell.info.run_id, "report/sub")
        assert sub.path == "report/sub/three.txt"
        snapshot = client.list_artifacts(version.info.run_id, "snapshot")
        assert [a.path.endswith(".arrow") for a in snapshot] == [True]
        [dataset] = cell.inputs.dataset_inputs  # the cell read it: linked once
        assert dataset.dataset.digest == version.data.tags["mlops.dataset.digest"]
        [model] = client.search_logged_models(experiment_ids=[cell.info.experiment_id])
        assert str(model.status).endswith("READY")
        assert [o.model_id for o in cell.outputs.model_outputs] == [model.model_id]
        model_files = {a.path for a in client.list_logged_model_artifacts(model.model_id)}
        assert {"MLmodel", "model.pkl", "requirements.txt"} <= model_files
        sent = proxy.written
        uploads = [w for w in sent if "/artifacts/" in w and w.startswith("PUT")]
        assert len(uploads) - len(set(uploads)) <= proxy.counts["lost_after"], uploads
    finally:
        tracker.shutdown_recorders(timeout=1)
        agent_control.stop(ws, timeout=10)
        proxy.stop()
        forget_cached_clients()
