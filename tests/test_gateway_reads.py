"""Every read the gateway makes without the MLflow client answers exactly what MLflow answers.

``Gateway.direct_read`` decides: the embedded store's SQLite file (the CLI's ``runs``/``show``, the
panel's first page, a page sorted by a metric); a team server's PostgreSQL when
``MLOPS_TRACKING_DB_URI`` names a reader (the runs page); the team server's REST API (the shared
build cache, without importing MLflow). Each direct read below is held against MlflowClient's own
answer on the same store.
"""

from __future__ import annotations

import json

import pytest

from jupyter_mlops.store import embedded_read, server_rest, tracking_db
from jupyter_mlops.store.gateway import Gateway, gateway_for
from jupyter_mlops.store.metric_order import page_by_metric
from jupyter_mlops.store.run_details import run_detail_from_mlflow
from jupyter_mlops.store.runs import run_summary


@pytest.fixture
def recorded(workspace) -> tuple[Gateway, str, list[str]]:
    """Three finished runs with params, tags, metric histories; one with a dataset input and a
    logged model output, one deleted (no direct read may list it)."""
    from mlflow.entities import Dataset, DatasetInput, InputTag, LoggedModelOutput

    gw = gateway_for(workspace)
    client, exp = gw.client, gw.experiment_id()
    ids = []
    for i, (name, acc) in enumerate([("r1", 0.5), ("r2", 0.9), ("r3", 0.7), ("gone", 0.99)]):
        run_id = client.create_run(exp, run_name=name, tags={"mlops.kind": "cell"}).info.run_id
        client.log_metric(run_id, "acc", acc - 0.1, step=0)
        client.log_metric(run_id, "acc", acc, step=1)
        client.log_param(run_id, "alpha", str(i))
        client.set_terminated(run_id)
        ids.append(run_id)
    client.delete_run(ids.pop())
    data = Dataset("iris", "d1g3st", "local", '{"uri": "data.csv"}', '{"a": 1}', '{"n": 3}')
    client.log_inputs(ids[1], [DatasetInput(data, [InputTag("mlflow.data.context", "train")])])
    model = client.create_logged_model(exp, name="clf", source_run_id=ids[1])
    client.log_outputs(ids[1], [LoggedModelOutput(model.model_id, 0)])
    return gw, exp, ids


def _as_json(runs) -> list[str]:
    return [json.dumps(r.to_dictionary(), sort_keys=True) for r in runs]


@pytest.mark.embedded_only
def test_the_embedded_file_answers_as_mlflow(recorded):
    gw, exp, ids = recorded
    assert gw.direct_read() == "embedded"
    db, client = gw.embedded_db(), gw.client
    assert db is not None
    listed = client.search_experiments()
    assert sorted(embedded_read.experiments(db)) == sorted(
        (e.experiment_id, e.name) for e in listed
    )
    newest = client.search_runs([exp], order_by=["attributes.start_time DESC"])
    assert embedded_read.list_runs(db, limit=10) == [run_summary(r) for r in newest]
    page = embedded_read.runs_page(db, experiment=None, limit=2, offset=0)
    first = client.search_runs([exp], order_by=["attributes.start_time DESC"], max_results=2)
    assert page is not None and page["runs"] == [run_summary(r) for r in first]
    assert embedded_read.page_offset(page["next_page_token"]) == 2
    for run_id in ids:
        assert embedded_read.run_detail(db, run_id) == run_detail_from_mlflow(gw, run_id)
    best = client.search_runs([exp], order_by=["metrics.acc DESC"])
    fast = page_by_metric(db, client, [exp], "acc", True, 10, None)
    assert fast is not None and _as_json(fast[0]) == _as_json(best)


@pytest.mark.team_only
def test_a_team_servers_database_and_api_answer_as_mlflow(
    recorded, pg_cluster, team_tracking, monkeypatch
):
    gw, exp, ids = recorded
    client = gw.client
    monkeypatch.setenv("MLOPS_TRACKING_DB_URI", pg_cluster.uri(team_tracking.database))
    assert gw.direct_read() == "tracking_db"
    uri = gw.tracking_db_uri()
    assert uri is not None
    for metric, order in (
        (None, "attributes.start_time DESC"),
        (("acc", True), "metrics.acc DESC"),
    ):
        direct = tracking_db.runs_page(
            uri, experiment=None, metric=metric, limit=10, page_token_in=None
        )
        assert direct is not None, "the database could not be read"
        expected = client.search_runs([exp], order_by=[order], max_results=10)
        assert _as_json(direct[0]) == _as_json(expected)
    tracking_db.forget_connections()

    monkeypatch.delenv("MLOPS_TRACKING_DB_URI")
    assert gw.direct_read() == "server_rest"
    base = gw.rest_base()
    assert base is not None
    assert server_rest.experiment_id(base, gw.ws.default_experiment) == exp
    flt, order = "tags.`mlops.kind` = 'cell'", ["attributes.end_time DESC"]
    found = server_rest.search_runs(base, exp, flt, order, 10)
    expected = client.search_runs([exp], flt, order_by=order, max_results=10)
    assert [
        (
            r["info"]["run_id"],
            r["info"]["artifact_uri"],
            {t["key"]: t["value"] for t in r["data"]["tags"]},
        )
        for r in found
    ] == [(r.info.run_id, r.info.artifact_uri, r.data.tags) for r in expected]
    assert sorted(r.info.run_id for r in expected) == sorted(ids)
