"""The prediction-log collector: KServe's request logger posts CloudEvents over real HTTP, and
monitoring reads them back like a router's traffic."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone

import pytest
from ports import free_port
from release_support import FEATURES, make_data
from waiting import wait_until

from jupyter_mlops.monitor.predlog import PredictionLog
from jupyter_mlops.monitor.predlog_reader import scan_predictions
from jupyter_mlops.serving.collector import (
    REQUEST_TYPE,
    RESPONSE_TYPE,
    KServeLogCollector,
    create_collector_app,
    parse_versions,
)
from jupyter_mlops.serving.server import BackgroundServer
from jupyter_mlops.store.gateway import gateway_for


def post(url: str, kind: str, event_id: str, body: dict, at: datetime) -> int:
    """One event the way KServe's logger sends it: a CloudEvent in binary mode."""
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Ce-Specversion": "1.0",
            "Ce-Id": event_id,
            "Ce-Type": kind,
            "Ce-Source": "http://localhost:9081/",
            "Ce-Time": at.isoformat().replace("+00:00", "Z"),
            "Ce-Inferenceservicename": "churn",
            "Ce-Namespace": "ml",
            "Ce-Component": "predictor",
            "Ce-Endpoint": "",
        },
    )
    try:
        return urllib.request.urlopen(request, timeout=10).status
    except urllib.error.HTTPError as exc:
        return exc.code


def v2_request(rows) -> dict:
    """What MLServer's pandas codec expects: one named tensor per column."""
    return {
        "inputs": [
            {"name": c, "shape": [len(rows)], "datatype": "FP64", "data": rows[c].tolist()}
            for c in FEATURES
        ]
    }


def v2_response(predictions, version: str) -> dict:
    return {
        "model_name": "churn",
        "model_version": version,
        "id": "x",
        "outputs": [
            {"name": "predict", "shape": [len(predictions), 1], "datatype": "INT64",
             "data": predictions},
        ],
    }  # fmt: skip


def test_kserve_events_become_prediction_log_records(workspace):
    rows = make_data(6, seed=3)
    plog = PredictionLog(gateway_for(workspace), "churn", ship=False)
    collector = KServeLogCollector("churn", plog, parse_versions("1=champion, 2=canary"))
    t0 = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
    with BackgroundServer(
        gateway_for(workspace), "churn", app=create_collector_app(collector)
    ) as srv:
        url = f"{srv.url}/"
        assert post(url, REQUEST_TYPE, "a", v2_request(rows[:4]), t0) == 200
        assert (
            post(
                url,
                RESPONSE_TYPE,
                "a",
                v2_response([1, 0, 1, 1], "2"),
                t0 + timedelta(milliseconds=12),
            )
            == 200
        )
        # the logger's workers may deliver a response before its request
        assert (
            post(
                url,
                RESPONSE_TYPE,
                "b",
                v2_response([0, 0], "1"),
                t0 + timedelta(seconds=1, milliseconds=5),
            )
            == 200
        )
        assert post(url, REQUEST_TYPE, "b", v2_request(rows[4:]), t0 + timedelta(seconds=1)) == 200
        # a request whose response never came (the model server failed)
        assert post(url, REQUEST_TYPE, "c", v2_request(rows[:1]), t0 + timedelta(seconds=2)) == 200
        assert post(url, "dev.example.other", "d", {}, t0) == 400  # not KServe's
        assert collector.expire(now=datetime.now().timestamp() + 3600) == 1
        stats = json.loads(urllib.request.urlopen(f"{srv.url}/stats", timeout=10).read())
    plog.close()
    assert stats == {"events": 5, "records": 3, "unanswered": 1, "rejected": 1}
    table = scan_predictions(gateway_for(workspace), "churn").table.to_pandas()
    assert len(table) == 7  # one row per predicted row: 4 + 2 + 1
    by_request = table.groupby("request_id")
    a = by_request.get_group("a")
    assert set(a["version"]) == {"2"} and set(a["alias"]) == {"canary"}
    assert a["out"].tolist() == [1, 0, 1, 1]
    assert a["in.age"].tolist() == pytest.approx(rows["age"][:4].tolist())
    assert a["latency_ms"].iloc[0] == pytest.approx(12.0, abs=0.01)
    b = by_request.get_group("b")
    assert set(b["version"]) == {"1"} and set(b["alias"]) == {"champion"}
    assert b["in.income"].tolist() == pytest.approx(rows["income"][4:].tolist())
    c = by_request.get_group("c")
    assert c["status"].tolist() == [500]
    assert "no response" in c["error"].iloc[0]


def test_other_payload_shapes_are_read_as_columns():
    from jupyter_mlops.serving.collector import request_inputs, response_outputs

    assert request_inputs({"dataframe_split": {"columns": ["a", "b"], "data": [[1, 2], [3, 4]]}}) == {
        "a": [1, 3], "b": [2, 4],
    }  # fmt: skip
    assert request_inputs({"instances": [{"a": 1}, {"a": 2, "b": 5}]}) == {
        "a": [1, 2],
        "b": [None, 5],
    }
    assert request_inputs({"inputs": [{"name": "x", "shape": [2, 2], "datatype": "FP32", "data": [[1, 2], [3, 4]]}]}) == {
        "x.0": [1, 3], "x.1": [2, 4],
    }  # fmt: skip
    assert request_inputs("nonsense") is None
    two = {"outputs": [{"name": "p", "data": [0.1]}, {"name": "label", "data": [1]}]}
    assert response_outputs(two) == {"p": [0.1], "label": [1]}
    assert response_outputs({"predictions": [3]}) == [3]


def test_the_collector_image_command_serves_and_flushes_on_sigterm(workspace, tmp_path):
    """What the deployed collector runs: `python -m jupyter_mlops.serving.collector`."""
    import os
    import signal
    import subprocess
    import sys

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env.update(MLOPS_MODEL="churn", MLOPS_VERSIONS="3=champion", PORT=str(port), HOST="127.0.0.1")
    env["MLOPS_WORKSPACE"] = str(workspace.root)
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyter_mlops.serving.collector"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wait_until(
            lambda: (
                urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2).status == 200
            ),
            timeout=120,
            message="the collector never answered /ping",
            ignoring=(OSError,),
        )
        rows = make_data(2, seed=1)
        at = datetime.now(timezone.utc)
        url = f"http://127.0.0.1:{port}/"
        assert post(url, REQUEST_TYPE, "z", v2_request(rows), at) == 200
        assert post(url, RESPONSE_TYPE, "z", v2_response([1, 0], "3"), at) == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode in (0, -signal.SIGTERM), err  # uvicorn re-raises the signal
    assert "collecting KServe prediction logs of churn" in out
    table = scan_predictions(gateway_for(workspace), "churn").table.to_pandas()
    assert table["version"].tolist() == ["3", "3"] and table["out"].tolist() == [1, 0]
