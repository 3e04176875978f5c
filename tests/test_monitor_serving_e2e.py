"""End to end on the real router over HTTP on 127.0.0.1: real traffic lands in the prediction log
and in /metrics; a bad canary is rolled back by the guard (and the router stops sending it
traffic), a good one is kept."""

from __future__ import annotations

import httpx
from release_support import FEATURES, registered

from jupyter_mlops.monitor.guard import guard_canary
from jupyter_mlops.monitor.predlog import scan_predictions
from jupyter_mlops.monitor.report import build_report
from jupyter_mlops.release import history, rollout
from jupyter_mlops.serving.server import BackgroundServer
from jupyter_mlops.store.client import client_for
from jupyter_mlops.store.gateway import gateway_for


def _send(http, X, n, batch=4):
    versions = []
    for i in range(n):
        rows = X.iloc[(i * batch) % (len(X) - batch) :][:batch]
        d = rows.to_dict(orient="split")
        r = http.post(
            "/invocations", json={"dataframe_split": {"columns": d["columns"], "data": d["data"]}}
        )
        assert r.status_code == 200, r.text
        versions.append(r.headers["x-model-version"])
    return versions


def _canary_count(text: str) -> float:
    key = 'mlops_requests_total{alias="canary",model="churn",status="200",version="2"} '
    line = next((ln for ln in text.splitlines() if ln.startswith(key)), None)
    return float(line.split()[-1]) if line else 0.0


def test_real_traffic_metrics_and_the_canary_guard(workspace):
    (workspace.root / "mlops.yaml").write_text(
        "project: demo\nmonitor:\n  canary:\n    min_requests: 30\n    window: 10m\n"
        # judged on errors and outputs here: a loaded machine must not make a latency verdict
        "    min_latency_p95_increase_ms: 10000\n"
    )
    df = registered(workspace, "churn", ("good", "bad", "good"))  # v2 always says 0
    rollout.promote(gateway_for(workspace), "churn", 1, "champion")
    rollout.promote(gateway_for(workspace), "churn", 2, "canary", weight=50)
    X = df[FEATURES]
    with (
        BackgroundServer(gateway_for(workspace), "churn", poll_interval=0.1) as srv,
        httpx.Client(base_url=srv.url) as http,
    ):
        plog = srv.app.state.prediction_log
        before = _canary_count(http.get("/metrics").text)
        versions = _send(http, X, 100)
        assert versions.count("2") == 50
        plog.flush()
        metrics = http.get("/metrics").text
        assert _canary_count(metrics) - before == 50  # the registry is process-wide
        assert "mlops_request_latency_seconds_bucket" in metrics

        verdict = guard_canary(gateway_for(workspace), "churn")
        assert verdict.decision == "rollback" and verdict.acted, verdict.reasons
        assert "predictions differ" in " ".join(verdict.reasons)
        event = history.events(gateway_for(workspace), "churn")[-1]
        assert (event.action, event.actor, event.version) == ("rollback", "canary-guard", "2")
        # the router stops routing to it (how fast is a figure of bench_monitor.py, not a test)
        assert srv.router.wait_for(lambda t: t.canary is None, timeout=30)
        assert set(_send(http, X, 20)) == {"1"}

        rollout.promote(gateway_for(workspace), "churn", 3, "canary", weight=50)
        assert srv.router.wait_for(lambda t: t.canary is not None, timeout=30)
        assert _send(http, X, 100).count("3") == 50
        plog.flush()
        verdict = guard_canary(gateway_for(workspace), "churn")
        assert verdict.decision == "keep" and not verdict.acted, verdict.reasons
        assert str(client_for(workspace).get_registered_model("churn").aliases["canary"]) == "3"

    scan = scan_predictions(gateway_for(workspace), "churn")
    assert scan.table.num_rows == 220 * 4 and not scan.problems
    report = build_report(gateway_for(workspace), "churn", window="10m", reference=df, record=False)
    assert report.health["1"].requests == 120 and report.health["2"].requests == 50
    assert report.health["all"].error_rate == 0.0
    assert set(report.drift) == set(FEATURES) and not report.drifted
