"""Sorting runs by a metric on a team server whose PostgreSQL database we may read directly."""

from __future__ import annotations

import pytest
from test_runs_order import scored  # noqa: F401 (the fixture, on this module's store)

from jupyter_mlops.store import metric_order
from jupyter_mlops.store.client import client_for, experiment_id
from jupyter_mlops.store.runs import search


@pytest.fixture
def store() -> str:
    return "team"


@pytest.fixture
def direct_reads(team_tracking, pg_cluster, monkeypatch):
    """MLOPS_TRACKING_DB_URI names the server's database; what the fast path returned."""
    monkeypatch.setenv("MLOPS_TRACKING_DB_URI", pg_cluster.uri(team_tracking.database))
    answers: list = []
    real = metric_order._postgres_ids

    def recording(*args):
        answers.append(real(*args))
        return answers[-1]

    monkeypatch.setattr(metric_order, "_postgres_ids", recording)
    return answers


@pytest.mark.parametrize("clause", ["metrics.acc DESC", "metrics.acc ASC"])
def test_postgres_fast_path_pages_match_mlflow(scored, direct_reads, clause):  # noqa: F811
    client = client_for(scored)
    expected = [
        r.info.run_name
        for r in client.search_runs([experiment_id(scored)], order_by=[clause], max_results=100)
    ]
    got, token = [], None
    while True:
        page, token = search(scored, order_by=[clause], limit=3, page_token=token)
        got += [r.info.run_name for r in page]
        if not token:
            break
    assert got == expected
    assert len(direct_reads) == 3 and all(ids is not None for ids in direct_reads)


def test_unreadable_database_falls_back_to_mlflow(scored, direct_reads, monkeypatch):  # noqa: F811
    monkeypatch.setenv("MLOPS_TRACKING_DB_URI", "postgresql://nobody@127.0.0.1:1/none")
    page, _ = search(scored, order_by=["metrics.acc DESC"], limit=2)
    assert [r.data.metrics["acc"] for r in page] == [0.9, 0.9]
    assert direct_reads == [None]
