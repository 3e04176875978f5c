"""Sweeps with real kernels: random and Optuna sampling, patience, the median pruner, progress."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from notebook_support import make_notebook

from jupyter_mlops.pipeline.build import build
from jupyter_mlops.pipeline.spec import load_spec
from jupyter_mlops.pipeline.sweep import Sweep
from jupyter_mlops.store.client import client_for

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def kernels_import_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", str(REPO))


def trial_runs(ws) -> list:
    client = client_for(ws)
    exps = [e.experiment_id for e in client.search_experiments()]
    runs = client.search_runs(exps, filter_string="tags.`mlops.kind` = 'trial'")
    return sorted(runs, key=lambda r: int(r.data.tags["mlops.trial"]))


LOSS = "from jupyter_mlops.pipeline import log_step_metrics\nlog_step_metrics(loss=(c - 3) ** 2)"


@pytest.mark.parametrize("method", ["random", "optuna"])
def test_sampled_sweep_runs_its_budget_and_marks_the_best(workspace, method: str) -> None:
    ws = workspace
    make_notebook(ws.root / "t.ipynb", "c = 0.0\nkind = 'a'", LOSS)
    (ws.root / "mlops.yaml").write_text(
        "steps:\n  t:\n    notebook: t.ipynb\n    sweep:\n"
        f"      method: {method}\n      trials: 3\n      seed: 7\n"
        "      parameters: {c: {low: 0.0, high: 6.0}, kind: [a, b]}\n"
        "      metric: loss\n      direction: minimize\n"
    )
    report = build(workspace=ws, jobs=2, progress=False, wait=True)
    assert report.ok, report.table()
    step = report.step("t")
    assert step.trials == 3
    runs = trial_runs(ws)
    assert len(runs) == 3
    cs = [float(r.data.params["c"]) for r in runs]
    assert all(0.0 <= c <= 6.0 for c in cs) and len(set(cs)) == 3
    assert {r.data.params["kind"] for r in runs} <= {"a", "b"}
    losses = [r.data.metrics["loss"] for r in runs]
    assert losses == pytest.approx([(c - 3) ** 2 for c in cs])
    best = [r for r in runs if r.data.tags.get("mlops.best") == "true"]
    assert len(best) == 1 and best[0].data.metrics["loss"] == min(losses)
    assert step.metric == ("loss", pytest.approx(min(losses)))
    step_run = client_for(ws).get_run(step.run_id)
    assert step_run.data.tags["mlops.best_run_id"] == best[0].info.run_id
    assert float(step_run.data.params["best.c"]) == float(best[0].data.params["c"])
    if method == "random":  # the seed decides the trials: the same as sampling here
        sweep = Sweep(load_spec(ws).steps["t"].sweep)
        expected = [sweep.next_trial().params["c"] for _ in range(3)]
        assert cs == pytest.approx(expected)


def test_patience_stops_a_sweep_without_improvement(workspace, capsys) -> None:
    ws = workspace
    make_notebook(
        ws.root / "t.ipynb",
        "x = 0",
        "from jupyter_mlops.pipeline import log_step_metrics\nlog_step_metrics(m=x)",
    )
    (ws.root / "mlops.yaml").write_text(
        "steps:\n  t:\n    notebook: t.ipynb\n    sweep:\n"
        "      parameters: {x: [5, 1, 2, 3, 4]}\n      metric: m\n"
        "      early_stopping: {patience: 2}\n"
    )
    report = build(workspace=ws, jobs=1, progress=True, wait=True)
    assert report.ok, report.table()
    # 5 is best at once; two trials later without improvement the sweep stops
    assert report.step("t").trials == 3
    assert [r.data.params["x"] for r in trial_runs(ws)] == ["5", "1", "2"]
    assert report.step("t").metric == ("m", 5.0)
    # the bar knew the whole budget from its first line, and ended at the trials that ran
    totals = [int(t) for t in re.findall(r"\| *\d+/(\d+) ", capsys.readouterr().err)]
    assert totals[0] == 5 and totals[-1] == 3, totals


PRUNED = (
    "import time\nfrom jupyter_mlops.pipeline import log_step_metrics\n"
    "for i in range(3):\n"
    "    log_step_metrics(score=x, step=i)\n"
    "    time.sleep(0.05 if x > 1 else 30)\n"
)


def test_median_pruner_kills_a_trial_below_the_median(workspace) -> None:
    ws = workspace
    make_notebook(ws.root / "t.ipynb", "x = 0", PRUNED)
    (ws.root / "mlops.yaml").write_text(
        "steps:\n  t:\n    notebook: t.ipynb\n    sweep:\n"
        "      parameters: {x: [3, 2, 0]}\n      metric: score\n"
        "      early_stopping: {pruner: median, min_trials: 2}\n"
    )
    report = build(workspace=ws, jobs=1, progress=False, wait=True)
    assert report.ok, report.table()  # a pruned trial is not a failed step
    step = report.step("t")
    assert step.trials == 3 and step.metric == ("score", 3.0)
    runs = trial_runs(ws)
    assert [r.info.status for r in runs] == ["FINISHED", "FINISHED", "KILLED"]
    pruned = runs[2]
    assert pruned.data.tags.get("mlops.pruned") == "true"
    # killed after its first report, long before its 90 s of sleep
    assert (pruned.info.end_time - pruned.info.start_time) / 1000 < 30
    assert runs[0].data.tags.get("mlops.best") == "true"
