"""Prometheus metrics from prediction-log batches: counts per version and status, latency, drift."""

from __future__ import annotations

import json
import os
import time

from monitor_support import stream
from prometheus_client.parser import text_string_to_metric_families

from jupyter_mlops.monitor.predlog_format import records_to_table
from jupyter_mlops.monitor.prometheus import ServingMetrics, metrics_text


def samples(metrics: ServingMetrics) -> dict[tuple[str, tuple], float]:
    """Every sample of a scrape, by (name, sorted labels): parsed as Prometheus would parse it."""
    out = {}
    for family in text_string_to_metric_families(metrics_text(metrics)):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_requests_rows_errors_and_latency_by_version():
    t0 = time.time()
    records = (
        stream(30, t0=t0, version="1", batch=4, latency_ms=2.0)
        + stream(10, t0=t0, seed=2, version="2", alias="canary", batch=2, latency_ms=200.0)
        + stream(3, t0=t0, seed=3, version="2", alias="canary", status=500, latency_ms=300.0)
    )
    table, bad = records_to_table(records)
    assert bad == 0
    metrics = ServingMetrics()
    metrics.observe_table(table)
    got = samples(metrics)

    def req(version, alias, status):
        labels = {"model": "churn", "version": version, "alias": alias, "status": status}
        return got[("mlops_requests_total", tuple(sorted(labels.items())))]

    assert req("1", "champion", "200") == 30  # requests, not rows: a batch of 4 counts once
    assert req("2", "canary", "200") == 10
    assert req("2", "canary", "500") == 3
    labels_2 = (("model", "churn"), ("version", "2"))
    assert got[("mlops_request_errors_total", labels_2)] == 3
    assert got[("mlops_predicted_rows_total", (("model", "churn"), ("version", "1")))] == 120
    count_1 = got[("mlops_request_latency_seconds_count", (("model", "churn"), ("version", "1")))]
    assert count_1 == 30
    fast = (("le", "0.005"), ("model", "churn"), ("version", "1"))
    assert got[("mlops_request_latency_seconds_bucket", fast)] == 30  # ~2 ms each
    slow = (("le", "0.1"), ("model", "churn"), ("version", "2"))
    assert got[("mlops_request_latency_seconds_bucket", slow)] == 0  # ~200 ms each


def test_batches_add_up():
    metrics = ServingMetrics()
    for i in range(3):
        table, _ = records_to_table(stream(5, t0=time.time(), seed=i))
        metrics.observe_table(table)
    labels = {"model": "churn", "version": "1", "alias": "champion", "status": "200"}
    assert samples(metrics)[("mlops_requests_total", tuple(sorted(labels.items())))] == 15


def test_drift_gauges_follow_the_latest_report(workspace):
    metrics = ServingMetrics()
    metrics.watch_drift(workspace, "churn")
    assert not any(name.startswith("mlops_feature_drift") for name, _ in samples(metrics))
    latest = workspace.state_dir / "monitor" / "churn" / "latest.json"
    latest.parent.mkdir(parents=True)
    report = {"psi": {"age": 0.4}, "ks": {"age": 0.3}, "drifted": ["age"], "prediction_psi": 0.2}
    latest.write_text(json.dumps(report))
    got = samples(metrics)
    assert got[("mlops_feature_drift_psi", (("feature", "age"), ("model", "churn")))] == 0.4
    assert got[("mlops_drifted_features", (("model", "churn"),))] == 1
    assert got[("mlops_prediction_drift_psi", (("model", "churn"),))] == 0.2
    report["psi"]["age"] = 0.05
    latest.write_text(json.dumps(report))
    os.utime(latest, (time.time() + 5, time.time() + 5))  # a new report, a new mtime
    got = samples(metrics)
    assert got[("mlops_feature_drift_psi", (("feature", "age"), ("model", "churn")))] == 0.05
    latest.write_text("{not json")
    os.utime(latest, (time.time() + 10, time.time() + 10))
    assert not any(name == "mlops_feature_drift_psi" for name, _ in samples(metrics))
