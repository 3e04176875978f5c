"""Hostile requests against the real router over real HTTP: each gets a 400 naming its column (or a
500 carrying only an error id), every body is strict JSON, and the router stays up."""

from __future__ import annotations

import json
import logging

import httpx
import numpy as np
import pytest
from release_support import FEATURES, log_model_run, make_data, registered

from jupyter_mlops.release import rollout
from jupyter_mlops.release.registration import register
from jupyter_mlops.serving.payload import BadPayload, ColumnSpec, to_frame
from jupyter_mlops.serving.server import BackgroundServer
from jupyter_mlops.store.client import client_for
from jupyter_mlops.store.gateway import gateway_for

JSON = {"content-type": "application/json"}


def strict_json(text: str):
    """json.loads that refuses NaN / Infinity tokens, as every other JSON parser does."""

    def refuse(token):
        raise AssertionError(f"response is not strict JSON: {token}")

    return json.loads(text, parse_constant=refuse)


@pytest.fixture
def churn(workspace):
    df = registered(workspace, kinds=("good",))
    rollout.promote(gateway_for(workspace), "churn", 1, "champion")
    return df


@pytest.fixture
def row(churn):
    return churn[FEATURES].head(1).to_dict(orient="records")[0]


def post(http, text: str):
    return http.post("/invocations", content=text.encode(), headers=JSON)


def records(row, **changes) -> str:
    """A dataframe_records body with ``changes`` spliced in as raw JSON text (NaN, 10**400...)."""
    fields = [f'"{k}": {changes.get(k, json.dumps(v))}' for k, v in row.items()]
    return '{"dataframe_records": [{' + ", ".join(fields) + "}]}"


def assert_bad(r, column: str | None):
    assert r.status_code == 400, r.text
    body = strict_json(r.text)
    assert body["error_code"] == "BAD_REQUEST"
    if column is not None:
        assert repr(column) in body["message"], body["message"]
    assert len(body["message"]) < 400, body["message"]


HOSTILE = [
    # (name, raw JSON value spliced into one column, the column the 400 must name)
    ("huge integer in a double column", "income", str(10**400)),
    ("2**63 in a long column", "group", str(2**63)),
    ("-2**63-1 in a long column", "group", str(-(2**63) - 1)),
    ("1.5e300 in a long column", "group", "1.5e300"),
    ("NaN token", "income", "NaN"),
    ("Infinity token", "age", "Infinity"),
    ("-Infinity token", "tenure", "-Infinity"),
    ("true as a double", "income", "true"),
    ("false as a long", "group", "false"),
    ("a nested list as a double", "age", "[[[[1]]]]"),
    ("a long string in a double column", "age", json.dumps("x" * 100_000)),
    ("a float in a long column", "group", "0.5"),
]


@pytest.mark.parametrize(("case", "column", "raw"), HOSTILE, ids=[c[0] for c in HOSTILE])
def test_each_hostile_value_is_a_400_naming_its_column(workspace, row, case, column, raw):
    with (
        BackgroundServer(gateway_for(workspace), "churn") as srv,
        httpx.Client(base_url=srv.url) as http,
    ):
        assert_bad(post(http, records(row, **{column: raw})), column)
        assert http.get("/ping").status_code == 200
        assert post(http, records(row)).status_code == 200


def test_long_values_are_exact_and_in_range(workspace, row):
    """Values in int64 range reach the model exactly; no silent wrap through float64."""
    seen = []

    class Collect:
        def append(self, rec):
            seen.append(rec)

    with (
        BackgroundServer(gateway_for(workspace), "churn", prediction_log=Collect()) as srv,
        httpx.Client(base_url=srv.url) as http,
    ):
        r = post(http, records(row, group=str(2**63 - 1)))
        assert r.status_code == 200, r.text
        r = post(http, records(row, group=str(2**63)))
        assert_bad(r, "group")


def test_long_values_past_2_53_are_not_rounded_through_float():
    spec = [ColumnSpec("group", "long"), ColumnSpec("small", "integer")]
    frame = to_frame({"group": [2**60 + 1, -(2**63)], "small": [2**31 - 1, 0]}, spec)
    assert frame["group"].tolist() == [2**60 + 1, -(2**63)]
    assert frame["group"].dtype == np.int64 and frame["small"].dtype == np.int32
    with pytest.raises(BadPayload, match="'small'"):
        to_frame({"group": [1], "small": [2**31]}, spec)


def test_deep_nesting_and_huge_numbers_anywhere_are_400s_and_the_router_stays_up(workspace, row):
    deep = '{"inputs": ' + "[" * 100_000 + "]" * 100_000 + "}"
    deep_in_records = records(row, age="[" * 5000 + "]" * 5000)
    deep_columns = (
        '{"dataframe_split": {"columns": [' + "[" * 900 + "]" * 900 + '], "data": [[1]]}}'
    )
    with (
        BackgroundServer(gateway_for(workspace), "churn") as srv,
        httpx.Client(base_url=srv.url) as http,
    ):
        for text in (deep, deep_in_records, deep_columns):
            r = post(http, text)
            assert r.status_code == 400, r.text[:300]
            strict_json(r.text)
        r = post(http, '{"instances": [[' + str(10**400) + ", 1, 2, 3]]}")
        assert_bad(r, "age")
        r = post(http, '{"inputs": {"age": [1e999], "income": [1], "tenure": [1], "group": [1]}}')
        assert_bad(r, "age")
        assert http.get("/ping").status_code == 200
        assert post(http, records(row)).status_code == 200


def test_csv_infinity_is_refused_and_an_empty_cell_is_a_missing_value(workspace, churn):
    header = ",".join(FEATURES)
    with (
        BackgroundServer(gateway_for(workspace), "churn") as srv,
        httpx.Client(base_url=srv.url) as http,
    ):
        csv = {"content-type": "text/csv"}
        r = http.post("/invocations", content=f"{header}\n40,inf,3,1\n", headers=csv)
        assert_bad(r, "income")
        r = http.post("/invocations", content=f"{header}\n40,50,3,\n", headers=csv)
        assert_bad(r, "group")


class ExplodingModel:
    """A model whose failure message holds something no caller may see."""

    def fit(self, X, y):
        self.classes_ = np.array([0, 1])
        return self

    def predict(self, X):
        if (X["age"] < 0).any():
            raise RuntimeError("secret: /srv/data/customers.csv row 17 (password=hunter2)")
        return np.zeros(len(X), dtype=np.int64)


class NaNModel:
    """A regression model that answers NaN and infinity for some rows."""

    def fit(self, X, y):
        return self

    def predict(self, X):
        out = X["age"].to_numpy(dtype=float).copy()
        out[0] = np.nan
        if len(out) > 1:
            out[1] = np.inf
        return out


def _serve_model(ws, model, name):
    df = make_data(n=50)
    run_id, _ = log_model_run(ws, model.fit(df[FEATURES], df["label"]), df, name=name)
    mv = register(gateway_for(ws), run_id, name)
    client_for(ws).set_model_version_tag(name, mv.version, "mlops.gates", "passed")
    rollout.promote(gateway_for(ws), name, int(mv.version), "champion")
    return df


def test_a_failing_model_answers_500_with_an_error_id_only(workspace, caplog):
    df = _serve_model(workspace, ExplodingModel(), "boom")
    row = df[FEATURES].head(1).to_dict(orient="records")[0]
    caplog.set_level(logging.ERROR, logger="jupyter_mlops")
    with (
        BackgroundServer(gateway_for(workspace), "boom") as srv,
        httpx.Client(base_url=srv.url) as http,
    ):
        r = post(http, records(row, age="-1"))
        assert r.status_code == 500
        body = strict_json(r.text)
        assert "secret" not in r.text and "RuntimeError" not in r.text
        error_id = body["error_id"]
        assert error_id and error_id in body["message"]
        assert post(http, records(row)).status_code == 200
    logged = [rec for rec in caplog.records if error_id in rec.getMessage()]
    assert logged, "the 500's details must be in the server log under its error id"
    assert any("hunter2" in (rec.exc_text or "") + rec.getMessage() for rec in logged) or any(
        rec.exc_info and "hunter2" in str(rec.exc_info[1]) for rec in logged
    )


def test_nan_and_infinity_in_predictions_become_null(workspace):
    df = _serve_model(workspace, NaNModel(), "nanny")
    body = {"dataframe_records": df[FEATURES].head(3).to_dict(orient="records")}
    with (
        BackgroundServer(gateway_for(workspace), "nanny") as srv,
        httpx.Client(base_url=srv.url) as http,
    ):
        r = http.post("/invocations", json=body)
        assert r.status_code == 200, r.text
        preds = strict_json(r.text)["predictions"]
        assert preds[0] is None and preds[1] is None and isinstance(preds[2], float)
        strict_json(http.get("/version").text)


def test_an_unexpected_error_in_any_route_is_a_json_500_with_an_error_id(workspace, churn, caplog):
    from starlette.routing import Route

    async def explode(request):
        raise KeyError("secret-internal-state")

    caplog.set_level(logging.ERROR, logger="jupyter_mlops")
    with (
        BackgroundServer(
            gateway_for(workspace), "churn", routes=[Route("/explode", explode)]
        ) as srv,
        httpx.Client(base_url=srv.url) as http,
    ):
        r = http.get("/explode")
        assert r.status_code == 500 and "secret" not in r.text
        error_id = strict_json(r.text)["error_id"]
        assert http.get("/ping").status_code == 200
    assert any(error_id in rec.getMessage() and rec.exc_info for rec in caplog.records)
