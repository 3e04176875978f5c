"""The report and the canary guard on a real SQLite registry with real aliases and real logs."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
from monitor_support import stream, training_frame
from release_support import registered

from jupyter_mlops.errors import ConfigError
from jupyter_mlops.monitor.guard import evaluate_canary, guard_canary
from jupyter_mlops.monitor.predlog import PredictionLog
from jupyter_mlops.monitor.report import build_report
from jupyter_mlops.monitor.thresholds import load_monitor_config
from jupyter_mlops.release import history, rollout
from jupyter_mlops.store.client import client_for
from jupyter_mlops.store.gateway import gateway_for


def _log(ws, records, model="churn"):
    with PredictionLog(gateway_for(ws), model) as log:
        for r in records:
            log.append(r)


@pytest.fixture
def canary_ws(workspace):
    registered(workspace, "churn", ("good", "good"))
    rollout.promote(gateway_for(workspace), "churn", 1, "champion")
    rollout.promote(gateway_for(workspace), "churn", 2, "canary", weight=50)
    return workspace


def test_bad_canary_is_rolled_back_with_the_reason_in_history(canary_ws):
    now = time.time()
    _log(canary_ws, stream(80, t0=now - 60, seed=1, version="1"))
    bad = stream(60, t0=now - 60, seed=2, version="2", alias="canary", status=500)
    bad += stream(40, t0=now - 30, seed=3, version="2", alias="canary")
    _log(canary_ws, bad)
    verdict = guard_canary(gateway_for(canary_ws), "churn")
    assert verdict.decision == "rollback" and verdict.acted
    assert "error rate 60.0%" in verdict.reasons[0]
    aliases = client_for(canary_ws).get_registered_model("churn").aliases
    assert "canary" not in aliases and str(aliases["champion"]) == "1"
    event = history.events(gateway_for(canary_ws), "churn")[-1]
    assert (event.action, event.version, event.actor) == ("rollback", "2", "canary-guard")
    assert "error rate" in event.reason


def test_good_canary_is_kept_and_a_slow_one_is_judged_on_latency(canary_ws):
    now = time.time()
    _log(canary_ws, stream(80, t0=now - 60, seed=1, version="1"))
    _log(canary_ws, stream(80, t0=now - 60, seed=2, version="2", alias="canary"))
    verdict = guard_canary(gateway_for(canary_ws), "churn")
    assert verdict.decision == "keep" and not verdict.acted, verdict.reasons
    assert str(client_for(canary_ws).get_registered_model("churn").aliases["canary"]) == "2"
    _log(canary_ws, stream(80, t0=now - 20, seed=4, version="2", alias="canary", latency_ms=50))
    slow = evaluate_canary(gateway_for(canary_ws), "churn")
    assert slow.decision == "rollback" and "p95 latency" in slow.reasons[0]


def test_canary_with_too_few_requests_waits(canary_ws):
    now = time.time()
    _log(canary_ws, stream(80, t0=now - 60, seed=1, version="1"))
    _log(canary_ws, stream(5, t0=now - 60, seed=2, version="2", status=500))
    verdict = guard_canary(gateway_for(canary_ws), "churn")
    assert verdict.decision == "wait" and not verdict.acted
    assert "canary" in client_for(canary_ws).get_registered_model("churn").aliases


def test_report_detects_drift_records_a_monitoring_run_and_the_canary(canary_ws):
    now = time.time()
    _log(canary_ws, stream(200, t0=now - 600, seed=1, version="1", dt=1.0))
    _log(canary_ws, stream(200, t0=now - 300, seed=5, version="1", dt=1.0, drift=True))
    _log(canary_ws, stream(60, t0=now - 60, seed=6, version="2", alias="canary", status=503))
    ref = training_frame()
    preds = (ref["age"] > 45).astype(int).to_numpy()
    report = build_report(
        gateway_for(canary_ws), "churn", window="15m", reference=ref, reference_predictions=preds
    )
    assert "age" in report.drifted and "city" in report.drifted and "income" not in report.drifted
    assert report.health["1"].requests == 400 and report.health["2"].error_rate == 1.0
    assert report.canary is not None and report.canary.decision == "rollback"
    assert report.prediction_drift is not None
    # drift over time: the late buckets drift, the early ones do not
    psis = [b["psi"]["age"] for b in report.drift_over_time]
    assert psis[0] < 0.2 < psis[-1]
    text = report.to_text()
    assert "DRIFT" in text and "canary v2 vs champion v1: rollback" in text
    run = client_for(canary_ws).get_run(report.run_id)
    assert run.data.tags["mlops.kind"] == "monitor"
    assert run.data.metrics["drift.psi.age"] > 0.2
    assert run.data.metrics["health.v2.error_rate"] == 1.0
    assert client_for(canary_ws).get_experiment(run.info.experiment_id).name == "churn-monitoring"
    latest = json.loads((canary_ws.state_dir / "monitor" / "churn" / "latest.json").read_text())
    assert latest["drifted"] == report.drifted
    # the canary is only reported on, not rolled back, by a report
    assert "canary" in client_for(canary_ws).get_registered_model("churn").aliases


def test_report_on_empty_window_and_model_without_training_data(canary_ws):
    report = build_report(gateway_for(canary_ws), "churn", window="1h")
    text = report.to_text()
    assert "no predictions logged" in text
    assert any("no training dataset recorded" in p for p in report.problems)
    _log(canary_ws, stream(50, t0=time.time() - 10, seed=1, version="1"))
    report = build_report(gateway_for(canary_ws), "churn", window="1h", record=False)
    assert report.health["1"].requests == 50 and report.drift == {}
    assert any("no training dataset recorded" in p for p in report.problems)


def test_unregistered_model_with_corrupted_log_still_reports(workspace):
    _log(workspace, stream(40, t0=time.time() - 5), model="ghost")
    folder = workspace.state_dir / "predictions" / "ghost"
    (folder / "1-99999999999999-9-9.arrow").write_bytes(b"\x00garbage")
    report = build_report(gateway_for(workspace), "ghost", reference=training_frame(), record=False)
    assert any("not a registered model" in p for p in report.problems)
    assert any("unreadable" in p for p in report.problems)
    assert report.health["all"].requests == 40 and not report.drifted


def test_thresholds_from_mlops_yaml_and_errors_with_line(workspace):
    cfg_path = workspace.root / "mlops.yaml"
    cfg_path.write_text(
        "project: demo\nmonitor:\n  window: 30m\n  canary:\n    min_requests: 5\n"
        "    max_error_rate_increase: 0.1\n  drift:\n    psi: 0.3\n"
    )
    cfg = load_monitor_config(workspace)
    assert cfg.window == 1800 and cfg.canary.min_requests == 5 and cfg.drift.psi == 0.3
    cfg_path.write_text("monitor:\n  canary:\n    min_requests: 5\n    max_eror_rate: 1\n")
    with pytest.raises(ConfigError, match=r"mlops.yaml:4: monitor.canary.max_eror_rate: unknown"):
        load_monitor_config(workspace)
    cfg_path.write_text("monitor:\n  window: soon\n")
    with pytest.raises(ConfigError, match=r":2: monitor.window: 'soon' is not a duration"):
        load_monitor_config(workspace)
    cfg_path.write_text("monitor:\n  drift:\n    ks: 3\n")
    with pytest.raises(ConfigError, match="between 0 and 1"):
        load_monitor_config(workspace)
    assert np.isfinite(1.0)
