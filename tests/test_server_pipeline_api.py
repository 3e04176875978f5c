"""Runs paging and sorting, run detail, comparison, datasets, lineage, monitoring, and the
pipeline with builds started, followed and cancelled through REST."""

from __future__ import annotations

import json

import pytest
from server_support import api, jp_root_dir, jp_server_config, make_runs, wait_job
from waiting import async_wait_until

pytestmark = pytest.mark.filterwarnings("error::jupyter_server.utils.JupyterServerAuthWarning")
__all__ = ["jp_root_dir", "jp_server_config"]


async def test_runs_page_sorted_by_a_metric_and_filtered(jp_fetch, workspace):
    ids = make_runs(workspace, [f"r{i}" for i in range(5)])
    params = {"limit": "2", "order_by": "metrics.accuracy DESC"}
    code, first = await api(jp_fetch, "runs", params=params)
    assert code == 200 and [r["name"] for r in first["runs"]] == ["r4", "r3"]
    assert first["next_page_token"]
    code, second = await api(
        jp_fetch, "runs", params={**params, "page_token": first["next_page_token"]}
    )
    assert [r["name"] for r in second["runs"]] == ["r2", "r1"]
    code, filtered = await api(jp_fetch, "runs", params={"filter": "metrics.accuracy < 0.515"})
    assert sorted(r["name"] for r in filtered["runs"]) == ["r0", "r1"]
    code, bad = await api(jp_fetch, "runs", params={"filter": "metrics.accuracy <<< 1"})
    assert code == 400 and bad["error"]
    code, bad = await api(jp_fetch, "runs", params={"order_by": "1; DROP TABLE runs"})
    assert code == 400

    code, detail = await api(jp_fetch, "runs", ids[0])
    assert code == 200 and detail["name"] == "r0" and detail["params"] == {"C": "0"}
    code, missing = await api(jp_fetch, "runs", "f" * 32)
    assert code == 404
    code, cmp = await api(jp_fetch, "comparisons", params={"run": ids[0]})
    assert code == 400  # one run is no comparison
    code, experiments = await api(jp_fetch, "experiments")
    assert workspace.default_experiment in [e["name"] for e in experiments["experiments"]]


async def test_comparison_lineage_datasets_and_monitor(jp_fetch, workspace):
    from release_support import registered

    registered(workspace, "churn", ("good",))
    code, listed = await api(jp_fetch, "runs")
    run_id = listed["runs"][0]["run_id"]
    code, graph = await api(jp_fetch, "lineage", params={"node": run_id})
    assert code == 200, graph
    kinds = {n["kind"] for n in graph["nodes"]}
    assert {"run", "model", "model_version"} <= kinds
    code, graph = await api(
        jp_fetch, "lineage", params={"node": "models:/churn/1", "direction": "up"}
    )
    assert code == 200 and graph["focus"].startswith("model_version:")
    code, nothing = await api(jp_fetch, "lineage", params={"node": ""})
    assert code == 400
    code, sets = await api(jp_fetch, "datasets")
    assert code == 200 and sets["datasets"] == []
    code, report = await api(jp_fetch, "monitor", "churn", params={"window": "1h"})
    assert code == 200, report
    assert report["model"] == "churn" and report["live_rows"] == 0
    assert any("no predictions" in p for p in report["problems"])
    code, bad = await api(jp_fetch, "monitor", "churn", params={"window": "forever"})
    assert code == 400


def _notebook(source: str) -> str:
    return json.dumps(
        {
            "cells": [
                {
                    "cell_type": "code",
                    "metadata": {"tags": ["parameters"]},
                    "source": "seconds = 0",
                    "outputs": [],
                    "execution_count": None,
                },
                {
                    "cell_type": "code",
                    "metadata": {},
                    "source": source,
                    "outputs": [],
                    "execution_count": None,
                },
            ],
            "metadata": {
                "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
            },
            "nbformat": 4,
            "nbformat_minor": 5,
        }
    )


PIPELINE = """\
project: panel-pipeline
steps:
  quick:
    notebook: quick.ipynb
  slow:
    notebook: slow.ipynb
    needs: [quick]
    parameters: {seconds: 60}
"""


async def test_build_runs_reports_progress_and_can_be_cancelled(jp_fetch, workspace):
    root = workspace.root
    (root / "mlops.yaml").write_text(PIPELINE)
    (root / "quick.ipynb").write_text(_notebook("print('quick step ran')"))
    (root / "slow.ipynb").write_text(_notebook("import time\ntime.sleep(seconds)"))

    code, pipe = await api(jp_fetch, "pipeline")
    assert code == 200, pipe
    assert [(s["name"], s["status"]) for s in pipe["steps"]] == [
        ("quick", "stale"),
        ("slow", "stale"),
    ]
    assert pipe["steps"][0]["reason"] and pipe["build"] is None

    code, started = await api(jp_fetch, "builds", method="POST", payload={"steps": ["quick"]})
    assert code == 202, started
    job = await wait_job(jp_fetch, "builds", started["job"]["id"])
    assert job["status"] == "succeeded", job
    steps = {s["name"]: s for s in job["steps"]}
    assert steps["quick"]["status"] == "ran" and steps["quick"]["run_id"]
    assert any("quick" in line for line in steps["quick"]["log"])

    code, pipe = await api(jp_fetch, "pipeline")
    assert [(s["name"], s["fresh"]) for s in pipe["steps"]] == [("quick", True), ("slow", False)]

    # a build of the slow step, cancelled while its kernel sleeps
    code, started = await api(jp_fetch, "builds", method="POST", payload={})
    assert code == 202
    build_id = started["job"]["id"]
    code, second = await api(jp_fetch, "builds", method="POST", payload={})
    assert code == 409  # one build at a time

    async def slow_step_running() -> bool:
        _, now = await api(jp_fetch, "builds", build_id)
        return {s["name"]: s["status"] for s in now["job"]["steps"]}.get("slow") == "running"

    await async_wait_until(slow_step_running, 30, message="the slow step never started")
    code, cancelling = await api(jp_fetch, "builds", build_id, method="DELETE")
    assert code == 202 and cancelling["job"]["status"] in ("cancelling", "cancelled")
    job = await wait_job(jp_fetch, "builds", build_id, timeout=60)
    assert job["status"] == "cancelled", job
    code, again = await api(jp_fetch, "builds", build_id, method="DELETE")
    assert code == 409
    code, listed = await api(jp_fetch, "builds")
    assert [b["id"] for b in listed["builds"]][:1] == [build_id]


async def test_pipeline_without_mlops_yaml_is_a_clear_error(jp_fetch, workspace):
    code, answer = await api(jp_fetch, "pipeline")
    assert code == 400 and "mlops.yaml" in answer["error"] and answer["hint"]
    code, answer = await api(jp_fetch, "builds", method="POST", payload={"force": "yes"})
    assert code == 400
