"""Runs pages on a team server whose PostgreSQL database we may read directly.

Every page read from the database must equal what MLflow's own search through the server
answers: the same runs in the same order (ties, NaN, infinities, missing metrics: the ``scored``
runs), the same ``Run`` objects down to dataset inputs and model outputs, and page tokens that
continue through the server and back.
"""

from __future__ import annotations

import json
import math

import pytest
from test_runs_order import scored  # noqa: F401 (the fixture, on this module's store)

from jupyter_mlops.store import runs as store_runs
from jupyter_mlops.store import tracking_db
from jupyter_mlops.store.client import client_for, experiment_id
from jupyter_mlops.store.gateway import gateway_for
from jupyter_mlops.store.runs import search


@pytest.fixture
def store() -> str:
    return "team"


@pytest.fixture
def direct_reads(team_tracking, pg_cluster, monkeypatch):
    """MLOPS_TRACKING_DB_URI names the server's database; what each direct read returned."""
    monkeypatch.setenv("MLOPS_TRACKING_DB_URI", pg_cluster.uri(team_tracking.database))
    answers: list = []
    real = tracking_db.runs_page

    def recording(*args, **kwargs):
        answers.append(real(*args, **kwargs))
        return answers[-1]

    monkeypatch.setattr(store_runs, "tracking_db_page", recording)
    yield answers
    tracking_db.forget_connections()


def _all_pages(ws, order_by, limit=3):
    got, token = [], None
    while True:
        page, token = search(gateway_for(ws), order_by=order_by, limit=limit, page_token=token)
        got += [r.info.run_name for r in page]
        if not token:
            return got


def _as_json(runs) -> list[str]:
    """Runs comparable as a whole (NaN equals NaN here, unlike in a dict)."""
    return [json.dumps(r.to_dictionary(), sort_keys=True) for r in runs]


def _mlflow_order(ws, order_by):
    client = client_for(ws)
    found = client.search_runs([experiment_id(ws)], order_by=order_by, max_results=100)
    return [r.info.run_name for r in found]


@pytest.mark.parametrize(
    "order_by", [["metrics.acc DESC"], ["metrics.acc ASC"], ["metrics.`acc`"], None]
)
def test_direct_pages_match_mlflow(scored, direct_reads, order_by):  # noqa: F811
    expected = _mlflow_order(scored, order_by or ["attributes.start_time DESC"])
    assert _all_pages(scored, order_by) == expected
    assert "deleted" not in expected
    pages = math.ceil(len(expected) / 3)
    assert len(direct_reads) == pages and all(answer is not None for answer in direct_reads)


def test_direct_runs_are_mlflows_runs(scored, direct_reads):  # noqa: F811
    from mlflow.entities import Dataset, DatasetInput, InputTag, LoggedModelOutput

    client = client_for(scored)
    exp = experiment_id(scored)
    [first] = client.search_runs([exp], filter_string="attributes.run_name = 'r2'")
    rid = first.info.run_id
    client.log_param(rid, "alpha", "0.1")
    client.set_tag(rid, "mlops.kind", "cell")
    dataset = Dataset("iris", "d1g3st", "local", '{"uri": "data.csv"}', '{"a": 1}', '{"n": 3}')
    client.log_inputs(rid, [DatasetInput(dataset, [InputTag("mlflow.data.context", "train")])])
    model = client.create_logged_model(exp, name="clf", source_run_id=rid)
    client.log_outputs(rid, [LoggedModelOutput(model.model_id, 0)])
    for order_by in (["metrics.acc DESC"], None):
        page, _ = search(gateway_for(scored), order_by=order_by, limit=20)
        expected = client.search_runs(
            [exp], order_by=order_by or ["attributes.start_time DESC"], max_results=20
        )
        assert _as_json(page) == _as_json(expected)
    assert all(answer is not None for answer in direct_reads)
    [with_io] = [r for r in page if r.info.run_id == rid]
    assert with_io.inputs.dataset_inputs[0].dataset.digest == "d1g3st"
    assert with_io.outputs.model_outputs[0].model_id == model.model_id


def test_a_direct_page_continues_through_the_server(scored, direct_reads, monkeypatch):  # noqa: F811
    expected = _mlflow_order(scored, ["metrics.acc DESC"])
    first, token = search(gateway_for(scored), order_by=["metrics.acc DESC"], limit=4)
    monkeypatch.delenv("MLOPS_TRACKING_DB_URI")
    rest, _ = search(
        gateway_for(scored), order_by=["metrics.acc DESC"], limit=100, page_token=token
    )
    assert [r.info.run_name for r in first + rest] == expected
    # without a database to read, the gateway does not try one: the server answers the rest
    assert len(direct_reads) == 1 and direct_reads[0] is not None


def test_unreadable_database_falls_back_to_mlflow(scored, direct_reads, monkeypatch):  # noqa: F811
    monkeypatch.setenv("MLOPS_TRACKING_DB_URI", "postgresql://nobody@127.0.0.1:1/none")
    page, _ = search(gateway_for(scored), order_by=["metrics.acc DESC"], limit=2)
    assert [r.info.run_name for r in page] == _mlflow_order(scored, ["metrics.acc DESC"])[:2]
    assert direct_reads == [None]


def test_an_unknown_experiment_is_mlflows_clear_error(scored, direct_reads):  # noqa: F811
    from jupyter_mlops.errors import NotFound

    with pytest.raises(NotFound, match="no experiment named 'nope'"):
        search(gateway_for(scored), experiment="nope", order_by=["metrics.acc DESC"])
