"""Sorting runs by a metric: the embedded store's fast path answers exactly like MLflow."""

from __future__ import annotations

import pytest

from jupyter_mlops.store.client import client_for, experiment_id
from jupyter_mlops.store.runs import search


@pytest.fixture
def scored(workspace):
    from mlflow.entities import Metric

    client = client_for(workspace)
    exp = experiment_id(workspace)
    values = [0.5, None, 0.9, 0.1, 0.9, None, 0.7, 0.3]
    for i, value in enumerate(values):
        run = client.create_run(exp, run_name=f"r{i}", start_time=1000 + i)
        if value is not None:
            client.log_batch(run.info.run_id, metrics=[Metric("acc", value, 0, 0)])
        client.log_batch(run.info.run_id, metrics=[Metric("other", -i, 0, 0)])
    deleted = client.create_run(exp, run_name="deleted")
    client.log_batch(deleted.info.run_id, metrics=[Metric("acc", 1.0, 0, 0)])
    client.delete_run(deleted.info.run_id)
    return workspace


@pytest.mark.parametrize("clause", ["metrics.acc DESC", "metrics.acc ASC", "metrics.`acc`"])
def test_fast_path_pages_match_mlflow(scored, clause):
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
    assert "deleted" not in got


def test_fast_path_carries_full_runs(scored):
    [best], token = search(scored, order_by=["metrics.acc DESC"], limit=1)
    assert best.data.metrics["acc"] == 0.9 and "other" in best.data.metrics
    assert isinstance(token, str)
