"""Sorting runs by a metric: the embedded store's fast path answers exactly like MLflow.

The runs cover MLflow's whole order: ties (broken newest first, then by run id, two runs even
share a start time), NaN (after every number), infinities, and runs without the metric (last).
"""

from __future__ import annotations

import math

import pytest

from jupyter_mlops.store.client import client_for, experiment_id
from jupyter_mlops.store.gateway import gateway_for
from jupyter_mlops.store.runs import search


@pytest.fixture
def scored(workspace):
    from mlflow.entities import Metric

    client = client_for(workspace)
    exp = experiment_id(workspace)
    nan, inf = math.nan, math.inf
    values = [0.5, None, 0.9, 0.1, 0.9, None, 0.7, nan, 0.3, nan, inf, -inf, 0.0, 0.9]
    for i, value in enumerate(values):
        started = 1000 + min(i, 12)  # the last two share a start time: tied by run id
        run = client.create_run(exp, run_name=f"r{i}", start_time=started)
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
        page, token = search(gateway_for(scored), order_by=[clause], limit=3, page_token=token)
        got += [r.info.run_name for r in page]
        if not token:
            break
    assert got == expected
    assert "deleted" not in got


def test_fast_path_carries_full_runs(scored):
    [best], token = search(gateway_for(scored), order_by=["metrics.acc DESC"], limit=1)
    assert best.info.run_name == "r10" and "other" in best.data.metrics  # acc: +inf
    assert isinstance(token, str)


@pytest.mark.embedded_only
def test_cli_list_sorted_by_a_metric_matches_mlflow(scored):
    from jupyter_mlops.store.embedded_read import list_runs

    client = client_for(scored)
    expected = client.search_runs(
        [experiment_id(scored)], order_by=["metrics.acc DESC"], max_results=100
    )
    listed = list_runs(scored.state_dir / "mlflow.db", sort="acc", limit=100)
    assert [r["name"] for r in listed] == [r.info.run_name for r in expected]
