"""The panel's first answers straight from SQLite (server/first_page.py) are MLflow's answers:
same runs, same fields, same order, and page tokens that continue through either path."""

from __future__ import annotations

import math

from server_support import api, jp_root_dir, jp_server_config, make_runs  # noqa: F401

from jupyter_mlops.server import first_page, queries
from jupyter_mlops.store.gateway import gateway_for


def seed(ws) -> list[str]:
    from jupyter_mlops.store.client import client_for

    ids = make_runs(ws, ["first", "second", "third"])
    other = make_runs(ws, ["elsewhere"], experiment="other-experiment")
    make_runs(ws, ["bookkeeping"], experiment="mlops-datasets")
    client = client_for(ws)
    client.set_tag(ids[1], "mlops.kind", "cell")
    client.log_metric(ids[1], "loss", math.nan)
    client.log_metric(ids[2], "accuracy", 0.1, step=5)  # latest by step, not by time
    client.log_metric(ids[2], "accuracy", 0.9, step=2)
    return ids + other


def mlflow_page(ws, **kwargs):
    args = {"experiment": None, "limit": 100, "page_token": None, "order_by": []}
    args.update(kwargs)
    return queries.runs_page(gateway_for(ws), filter_string="", **args)


def fast_page(ws, **kwargs):
    args = {"experiment": None, "limit": 100, "page_token_in": None, "order_by": []}
    args.update(kwargs)
    return first_page.runs_page(gateway_for(ws), filter_string="", **args)


def same(a: dict, b: dict) -> bool:
    def normal(page):  # NaN != NaN: compare it as text, on a copy
        runs = [
            {**r, "metrics": {k: "nan" if v != v else v for k, v in r["metrics"].items()}}
            for r in page["runs"]
        ]
        return {**page, "runs": runs}

    return normal(a) == normal(b)


def test_the_sqlite_page_is_mlflows_page(workspace):
    seed(workspace)
    fast, slow = fast_page(workspace), mlflow_page(workspace)
    names = [r["name"] for r in fast["runs"]]
    assert names[:2] == ["third", "second"] and sorted(names[2:]) == ["elsewhere", "first"]
    assert same(fast, slow)
    third = fast["runs"][0]
    assert third["metrics"]["accuracy"] == 0.1 and third["params"] == {"C": "2"}
    second = fast["runs"][1]
    assert second["kind"] == "cell" and math.isnan(second["metrics"]["loss"])
    only = fast_page(workspace, experiment="other-experiment")
    assert same(only, mlflow_page(workspace, experiment="other-experiment"))
    assert first_page.experiments(gateway_for(workspace)) == queries.experiments(
        gateway_for(workspace)
    )


def test_page_tokens_continue_through_either_path(workspace):
    seed(workspace)
    first = fast_page(workspace, limit=3)
    assert len(first["runs"]) == 3 and first["next_page_token"]
    token = first["next_page_token"]
    assert same(
        fast_page(workspace, limit=3, page_token_in=token),
        mlflow_page(workspace, limit=3, page_token=token),
    )
    slow_token = mlflow_page(workspace, limit=3)["next_page_token"]
    assert same(
        fast_page(workspace, limit=3, page_token_in=slow_token),
        mlflow_page(workspace, limit=3, page_token=slow_token),
    )


def test_filters_sorts_and_other_stores_take_mlflows_path(workspace):
    seed(workspace)
    assert fast_page(workspace, order_by=["metrics.accuracy DESC"]) is None
    assert (
        first_page.runs_page(
            gateway_for(workspace),
            experiment=None,
            limit=5,
            page_token_in=None,
            order_by=[],
            filter_string="x",
        )
        is None
    )
    assert fast_page(workspace, page_token_in="not a token") is None


async def test_the_runs_route_pages_through_sqlite(jp_fetch, workspace):
    ids = seed(workspace)
    code, page = await api(jp_fetch, "runs", params={"limit": "2"})
    assert code == 200 and [r["run_id"] for r in page["runs"]] == [ids[2], ids[1]]
    code, rest = await api(
        jp_fetch, "runs", params={"limit": "2", "page_token": page["next_page_token"]}
    )
    assert {r["run_id"] for r in rest["runs"]} == {ids[0], ids[3]}
    assert rest["next_page_token"] is None
    code, missing = await api(jp_fetch, "runs", params={"experiment": "nope"})
    assert code == 404 and "nope" in missing["error"]


def test_queries_that_need_mlflow_wait_for_the_warm_up(workspace):
    """Two threads importing MLflow at once can break it, so queries wait for the warm-up;
    the light first page does not."""
    import threading

    from jupyter_mlops.server import first_page as fp
    from jupyter_mlops.server.service import MlopsService

    service = MlopsService(workspace.root)
    done = []
    fp._warm.clear()
    try:
        heavy = threading.Thread(target=lambda: done.append(service._guarded(lambda: "heavy")))
        heavy.start()
        assert service._guarded(fp.light(lambda: "light")) == "light"
        heavy.join(0.3)
        assert done == [], "a query needing MLflow ran while the warm-up was importing it"
    finally:
        fp._warm.set()
    heavy.join(5)
    assert done == ["heavy"]
