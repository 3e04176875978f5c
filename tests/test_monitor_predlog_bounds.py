"""Bounded prediction logs: only the signature's inputs are logged (extra request keys are dropped
and counted), and segments follow the retention policy (age and size) of ``monitor.log``."""

from __future__ import annotations

import os
import time

import httpx
from release_support import FEATURES, registered

from jupyter_mlops.monitor.predlog import PredictionLog, scan_predictions
from jupyter_mlops.monitor.predlog_writer import prune_segments
from jupyter_mlops.release import rollout
from jupyter_mlops.serving.server import BackgroundServer
from jupyter_mlops.store.gateway import gateway_for


def test_extra_request_keys_are_dropped_and_counted(workspace):
    df = registered(workspace, kinds=("good",))
    rollout.promote(gateway_for(workspace), "churn", 1, "champion")
    records = df[FEATURES].head(2).to_dict(orient="records")
    hostile = [{**r, **{f"junk{i}": "x" * 100 for i in range(50)}} for r in records]
    with (
        BackgroundServer(gateway_for(workspace), "churn") as srv,
        httpx.Client(base_url=srv.url) as http,
    ):
        for _ in range(5):
            r = http.post("/invocations", json={"dataframe_records": hostile})
            assert r.status_code == 200, r.text
        plog = srv.app.state.prediction_log
        plog.flush()
        assert plog.stats["dropped_keys"] == 5 * 50
    table = scan_predictions(gateway_for(workspace), "churn").table
    assert table.num_rows == 10
    inputs = sorted(c for c in table.column_names if c.startswith("in."))
    assert inputs == sorted(f"in.{c}" for c in FEATURES)


def test_a_version_without_signature_logs_a_bounded_number_of_inputs(workspace):
    log = PredictionLog(gateway_for(workspace), "nosig", ship=False)
    log.append({"ts": time.time(), "version": "1", "inputs": {f"k{i}": [i] for i in range(5000)}})
    log.close()
    table = scan_predictions(gateway_for(workspace), "nosig").table
    assert len([c for c in table.column_names if c.startswith("in.")]) == 200
    assert log.stats["dropped_keys"] == 4800


def test_retention_drops_old_segments_then_the_oldest_over_the_size(workspace):
    log = PredictionLog(gateway_for(workspace), "churn", ship=False)
    t0 = time.time()
    log.append({"ts": t0 - 1, "version": "1", "inputs": {"x": [1.0]}})
    written = log.flush()
    month_ago = time.time() - 30 * 86400
    os.utime(written, (month_ago, month_ago))
    for i in range(6):
        log.append({"ts": t0 + i, "version": "1", "inputs": {"x": [float(i)] * 500}})
        log.flush()
        time.sleep(0.01)  # distinct modification times: "oldest" is well defined
    log.close()
    log.prune()  # the writer thread also does this every 30 s
    assert log.stats["pruned_files"] == 1  # written a month ago (max_age: 7 days)
    folder = log.folder
    sizes = sorted(p.stat().st_size for p in folder.glob("*.arrow"))
    assert len(sizes) == 6
    budget = sum(sizes[-3:])
    assert prune_segments(folder, max_age=7 * 86400, max_bytes=budget) == 3
    left = sorted(folder.glob("*.arrow"))
    assert len(left) == 3 and sum(p.stat().st_size for p in left) <= budget
    first_kept = min(int(p.name.split("-")[0]) for p in left) / 1000
    assert first_kept > t0 + 2.5  # the oldest went first
    assert scan_predictions(gateway_for(workspace), "churn").table.num_rows == 3 * 500
