"""End to end: a tracked run replayed to a real ``mlflow server`` through a proxy that loses answers.

The proxy fails some requests before the server sees them and drops the answers of others after
the server did the work. Every param and metric must land exactly once, the model must end
READY with its files, linked to its run once, and nothing may be left refused.
"""

from __future__ import annotations

import pytest
from fault_proxy import FaultProxy
from ports import free_port
from test_tracking_kernels import MlflowServer

import jupyter_mlops
from jupyter_mlops.capture import tracker
from jupyter_mlops.journal.sync import failed_records, outbox_counts, sync_workspace
from jupyter_mlops.store.client import forget_cached_clients
from jupyter_mlops.workspace import Workspace


@pytest.mark.slow
def test_lost_answers_and_refused_requests_land_everything_exactly_once(tmp_path, monkeypatch):
    from mlflow import MlflowClient
    from sklearn.linear_model import LogisticRegression

    server = MlflowServer(tmp_path, free_port())
    server.start()
    proxy = FaultProxy(server.port, seed=7).start()
    root = tmp_path / "proj"
    root.mkdir()
    (root / "mlops.yaml").write_text("project: faults\n")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", proxy.uri)
    monkeypatch.delenv("MLOPS_WORKSPACE", raising=False)
    monkeypatch.delenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", raising=False)
    forget_cached_clients()
    ws = Workspace.find(root)
    params = {f"p{i}": i for i in range(8)}
    X = [[0.0, 1.0], [1.0, 0.0], [0.2, 0.9], [0.8, 0.1]] * 5
    y = [0, 1, 0, 1] * 5
    try:
        with jupyter_mlops.track(name="flaky", workspace=ws) as run:
            jupyter_mlops.log_params(params)
            for i in range(30):
                jupyter_mlops.log_metrics(loss=1.0 / (i + 1))
            jupyter_mlops.log_model(LogisticRegression().fit(X, y), name="clf", X=X)
        run_id = run.wait_synced(timeout=240)
        tracker.shutdown_recorders(timeout=30)
        report = sync_workspace(ws, timeout=60)
        assert report.pending == 0 and report.failed == 0, report.describe()
        assert outbox_counts(ws).failed == 0, [r["error"] for r in failed_records(ws)]
        assert proxy.counts["lost_after"] > 3 and proxy.counts["failed_before"] > 3, proxy.counts

        proxy.enabled = False  # artifact reads resolve mlflow-artifacts: through the env URI
        direct = MlflowClient(server.uri)
        got = direct.get_run(run_id)
        assert got.info.status == "FINISHED"
        assert got.data.params == {k: str(v) for k, v in params.items()}
        history = direct.get_metric_history(run_id, "loss")
        assert sorted(m.step for m in history) == list(range(30))
        found = direct.search_runs(
            [got.info.experiment_id], filter_string=f"tags.`mlops.run_key` = '{run.key}'"
        )
        assert len(found) == 1
        models = direct.search_logged_models(experiment_ids=[got.info.experiment_id])
        assert len(models) == 1, [m.model_id for m in models]
        model = models[0]
        assert str(model.status).endswith("READY")
        assert [o.model_id for o in got.outputs.model_outputs] == [model.model_id]
        files = {a.path for a in direct.list_logged_model_artifacts(model.model_id)}
        assert {"MLmodel", "model.pkl"} <= files
    finally:
        tracker.shutdown_recorders(timeout=1)
        proxy.stop()
        server.stop()
        forget_cached_clients()
