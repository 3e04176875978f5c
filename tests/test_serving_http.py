"""The serving router over real HTTP on 127.0.0.1: payloads, errors, split, alias following."""

from __future__ import annotations

import json
import statistics
import threading
import time

import httpx
import pytest
from release_support import FEATURES, registered

from jupyter_mlops.errors import InvalidInput
from jupyter_mlops.release import rollout
from jupyter_mlops.serving.server import BackgroundServer
from jupyter_mlops.store.client import client_for
from jupyter_mlops.store.gateway import gateway_for


@pytest.fixture
def churn(workspace):
    df = registered(workspace, kinds=("good", "bad"))
    rollout.promote(gateway_for(workspace), "churn", 1, "champion")
    return df


def split_payload(X):
    d = X.to_dict(orient="split")
    return {"dataframe_split": {"columns": d["columns"], "data": d["data"]}}


def test_every_mlflow_payload_shape_scores_the_same(workspace, churn):
    X = churn[FEATURES].head(5)
    model = client_for(workspace).get_model_version("churn", "1")
    import mlflow.pyfunc

    expected = mlflow.pyfunc.load_model(model.source).predict(X).tolist()
    shapes = [
        split_payload(X),
        {"dataframe_records": X.to_dict(orient="records")},
        {"instances": X.to_dict(orient="records")},
        {"inputs": X.to_dict(orient="list")},
        {"instances": X.values.tolist()},
    ]
    with (
        BackgroundServer(gateway_for(workspace), "churn") as srv,
        httpx.Client(base_url=srv.url) as http,
    ):
        assert http.get("/ping").status_code == 200
        for body in shapes:
            r = http.post("/invocations", json=body)
            assert r.status_code == 200, r.text
            assert r.json() == {"predictions": expected}
            assert r.headers["x-model-version"] == "1"
            assert r.headers["x-model-alias"] == "champion"
        r = http.post(
            "/invocations", content=X.to_csv(index=False), headers={"content-type": "text/csv"}
        )
        assert r.status_code == 200 and r.json() == {"predictions": expected}
        r = http.post("/invocations", content=b"<x/>", headers={"content-type": "application/xml"})
        assert r.status_code == 415
        info = http.get("/version").json()
        assert info["champion"] == "1" and info["canary"] is None


def test_bad_payloads_get_400_naming_the_column_and_413_before_parsing(workspace, churn):
    row = churn[FEATURES].head(1).to_dict(orient="records")[0]
    with (
        BackgroundServer(gateway_for(workspace), "churn", max_body=2000) as srv,
        httpx.Client(base_url=srv.url) as http,
    ):
        missing = {k: v for k, v in row.items() if k != "income"}
        r = http.post("/invocations", json={"dataframe_records": [missing]})
        assert r.status_code == 400 and "'income'" in r.json()["message"]
        r = http.post("/invocations", json={"dataframe_records": [{**row, "tenure": "ten"}]})
        assert r.status_code == 400 and "'tenure'" in r.json()["message"]
        r = http.post("/invocations", json={"dataframe_records": [{**row, "group": 0.5}]})
        assert r.status_code == 400 and "'group'" in r.json()["message"]
        r = http.post(
            "/invocations", content=b"{not json", headers={"content-type": "application/json"}
        )
        assert r.status_code == 400 and "JSON" in r.json()["message"]
        # an oversized body that is not even JSON: refused by size, never parsed
        r = http.post(
            "/invocations", content=b"x" * 5000, headers={"content-type": "application/json"}
        )
        assert r.status_code == 413
        # the same without a Content-Length (chunked): still 413
        r = http.post(
            "/invocations",
            content=iter([b"x" * 1500, b"x" * 1500]),
            headers={"content-type": "application/json"},
        )
        assert r.status_code == 413
        assert http.post("/invocations", json={"dataframe_records": [row]}).status_code == 200


def test_traffic_split_is_within_one_point_and_sticky_keys_stick(workspace, churn):
    rollout.promote(gateway_for(workspace), "churn", 2, "canary", weight=30)
    body = json.dumps({"dataframe_records": churn[FEATURES].head(1).to_dict(orient="records")})
    headers = {"content-type": "application/json"}
    with (
        BackgroundServer(gateway_for(workspace), "churn") as srv,
        httpx.Client(base_url=srv.url) as http,
    ):
        assert srv.router.wait_for(lambda t: t.canary is not None)
        seen = [
            http.post("/invocations", content=body, headers=headers).headers["x-model-version"]
            for _ in range(1000)
        ]
        share = seen.count("2") / len(seen) * 100
        assert abs(share - 30) <= 1, share
        sticky = {
            http.post(
                "/invocations", content=body, headers={**headers, "x-request-key": "customer-42"}
            ).headers["x-model-version"]
            for _ in range(20)
        }
        assert len(sticky) == 1


def test_shadow_mode_scores_the_canary_but_answers_with_the_champion(workspace, churn):
    rollout.promote(gateway_for(workspace), "churn", 2, "canary", weight=100, shadow=True)
    records = []

    class Collect:
        def append(self, rec):
            records.append(rec)

    body = {"dataframe_records": churn[FEATURES].head(2).to_dict(orient="records")}
    with (
        BackgroundServer(gateway_for(workspace), "churn", prediction_log=Collect()) as srv,
        httpx.Client(base_url=srv.url) as http,
    ):
        versions = {
            http.post("/invocations", json=body).headers["x-model-version"] for _ in range(10)
        }
    assert versions == {"1"}
    assert sum(1 for r in records if r["alias"] == "shadow" and r["version"] == "2") == 10


def test_predictions_land_in_the_prediction_log(workspace, churn):
    from jupyter_mlops.monitor.predlog import read_predictions

    body = {"dataframe_records": churn[FEATURES].head(3).to_dict(orient="records")}
    with (
        BackgroundServer(gateway_for(workspace), "churn") as srv,
        httpx.Client(base_url=srv.url) as http,
    ):
        for _ in range(4):
            assert http.post("/invocations", json=body).status_code == 200
        assert (
            http.post("/invocations", json={"dataframe_records": [{"age": 1}]}).status_code == 400
        )
    table = read_predictions(
        gateway_for(workspace), "churn"
    ).to_pandas()  # the log is flushed on shutdown
    assert set(table["status"]) == {200, 400}
    ok = table[table["status"] == 200]
    assert len(ok) == 12 and set(ok["version"]) == {"1"}
    assert "in.age" in table.columns


def test_alias_changes_are_followed_without_failed_requests(workspace, churn):
    """10 promotions and rollbacks under load: zero failures. Once a rollback has moved the alias,
    the server follows it within a second (the poll interval, 0.5 s, plus a registry read): the
    median of five rollbacks must, and none may take over two seconds, so one slow registry read
    on a busy machine is not taken for a router that does not follow."""
    body = json.dumps({"dataframe_records": churn[FEATURES].head(1).to_dict(orient="records")})
    failures, answered, followed = [], [], []
    stop = threading.Event()
    with BackgroundServer(gateway_for(workspace), "churn") as srv:

        def load():
            with httpx.Client(base_url=srv.url) as http:
                while not stop.is_set():
                    r = http.post(
                        "/invocations", content=body, headers={"content-type": "application/json"}
                    )
                    (answered if r.status_code == 200 else failures).append(
                        r.headers.get("x-model-version")
                    )

        worker = threading.Thread(target=load)
        worker.start()
        try:
            for _ in range(5):
                rollout.promote(gateway_for(workspace), "churn", 2, "champion")
                assert srv.router.wait_for(lambda t: t.champion.version == "2", 5)
                rollout.rollback(gateway_for(workspace), "churn", reason="drill")
                moved = time.monotonic()  # the alias has moved; the rest is the server's
                assert srv.router.wait_for(lambda t: t.champion.version == "1", 5)
                followed.append(time.monotonic() - moved)
        finally:
            stop.set()
            worker.join()
    assert statistics.median(followed) < 1.0, followed
    assert max(followed) < 2.0, followed
    assert failures == []
    assert {"1", "2"} <= set(answered)


def test_a_version_whose_source_is_outside_the_store_is_never_loaded(workspace, churn, tmp_path):
    import shutil

    client = client_for(workspace)
    good = client.get_model_version("churn", "1").source
    outside = tmp_path / "elsewhere"
    shutil.copytree(good.removeprefix("file://"), outside)
    mv = client.create_model_version("churn", source=outside.as_uri())
    with (
        BackgroundServer(gateway_for(workspace), "churn") as srv,
        httpx.Client(base_url=srv.url) as http,
    ):
        with pytest.raises(InvalidInput, match="outside this workspace"):  # refused at promote
            rollout.promote(
                gateway_for(workspace), "churn", mv.version, "champion", force=True, reason="test"
            )
        client.set_registered_model_alias("churn", "champion", mv.version)  # moved behind our back
        assert srv.router.wait_for(lambda t: srv.router.last_error is not None, 5)
        info = http.get("/version").json()
        assert "outside this workspace" in info["last_error"]
        assert info["champion"] == "1"  # the loaded champion keeps serving
        assert http.get("/ping").status_code == 200
    # a fresh server never unpickles it either: no champion, 503
    with (
        BackgroundServer(gateway_for(workspace), "churn") as srv,
        httpx.Client(base_url=srv.url) as http,
    ):
        assert http.get("/ping").status_code == 503
        r = http.post("/invocations", json={"dataframe_records": [{"age": 1.0}]})
        assert r.status_code == 503


def test_metrics_route_is_mounted(workspace, churn):
    body = {"dataframe_records": churn[FEATURES].head(1).to_dict(orient="records")}
    with (
        BackgroundServer(gateway_for(workspace), "churn") as srv,
        httpx.Client(base_url=srv.url) as http,
    ):
        assert http.post("/invocations", json=body).status_code == 200
        r = http.get("/metrics")
        assert r.status_code == 200 and "# TYPE" in r.text
