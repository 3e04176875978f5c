"""`build --only STEP` and `--trial N`: one step, or one sweep trial, per workflow task, with
real kernels; on a team server the build that finishes a sweep reuses the trials that ran as
tasks of their own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from notebook_support import make_notebook

from jupyter_mlops.errors import InvalidInput
from jupyter_mlops.pipeline.build import build
from jupyter_mlops.store.client import client_for

REPO = Path(__file__).resolve().parents[1]
SPEC = """\
steps:
  prep:
    notebook: prep.ipynb
    outputs: [data.json]
  sweep:
    notebook: sweep.ipynb
    needs: [prep]
    inputs: [data.json]
    sweep: {method: grid, parameters: {x: [1, 2, 3]}, metric: score}
  use:
    notebook: use.ipynb
    needs: [sweep]
    outputs: [chosen.json]
"""


@pytest.fixture(autouse=True)
def kernels_import_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", str(REPO))


def project(ws) -> None:
    make_notebook(
        ws.root / "prep.ipynb", None, "import json; json.dump({'base': 10}, open('data.json', 'w'))"
    )
    make_notebook(
        ws.root / "sweep.ipynb",
        "x = 0",
        "import json\nfrom jupyter_mlops.pipeline import log_step_metrics\n"
        "log_step_metrics(score=json.load(open('data.json'))['base'] + x)",
    )
    make_notebook(
        ws.root / "use.ipynb",
        "x = 0\nsweep_run_id = None",
        "import json; json.dump({'x': x, 'run': sweep_run_id}, open('chosen.json', 'w'))",
    )
    (ws.root / "mlops.yaml").write_text(SPEC)


def runs_of_kind(ws, kind: str) -> list:
    client = client_for(ws)
    exps = [e.experiment_id for e in client.search_experiments()]
    return client.search_runs(exps, filter_string=f"tags.`mlops.kind` = '{kind}'")


def test_only_builds_exactly_one_step_whose_needs_are_built(workspace):
    ws = workspace
    project(ws)
    with pytest.raises(InvalidInput, match="needs 'prep', which is not built") as err:
        build(workspace=ws, only="sweep", progress=False)
    assert "build --only prep" in (err.value.hint or "")
    with pytest.raises(InvalidInput, match="--trial needs --only"):
        build(workspace=ws, trial=0, progress=False)
    with pytest.raises(InvalidInput, match="no sweep"):
        build(workspace=ws, only="prep", trial=0, progress=False)
    report = build(workspace=ws, only="prep", progress=False, wait=True)
    assert [(s.name, s.status) for s in report.steps] == [("prep", "ran")]
    (ws.root / "data.json").unlink()  # a fresh task: outputs come back from the cache
    report = build(workspace=ws, only="sweep", trial=2, progress=False, wait=True)
    assert [(s.name, s.status) for s in report.steps] == [("prep", "cached"), ("sweep", "ran")]
    assert report.step("sweep").metric == ("score", 13.0)
    (trial,) = runs_of_kind(ws, "trial")
    assert trial.data.tags["mlops.trial"] == "2" and trial.data.params["x"] == "3"
    key = trial.data.tags["mlops.sweep_key"]
    assert len(key) >= 16 and "*" not in key  # the step's cache key, never taken for a secret
    # one trial does not build the step: its sweep is still to finish
    dry = build(workspace=ws, dry_run=True, progress=False)
    assert dry.step("sweep").status == "would run"
    with pytest.raises(InvalidInput, match="no trial 3"):
        build(workspace=ws, only="sweep", trial=3, progress=False)


@pytest.mark.parametrize("store", ["team"], indirect=True)
def test_a_sweep_finished_elsewhere_is_reused_trial_by_trial(workspace):
    ws = workspace
    project(ws)
    assert build(workspace=ws, only="prep", progress=False, wait=True).ok
    for number in (0, 2):  # two trials ran as tasks of their own
        assert build(workspace=ws, only="sweep", trial=number, progress=False, wait=True).ok
    report = build(workspace=ws, only="sweep", progress=False, wait=True)
    step = report.step("sweep")
    assert (step.status, step.trials) == ("ran", 3)
    trials = runs_of_kind(ws, "trial")
    assert sorted(int(t.data.tags["mlops.trial"]) for t in trials) == [0, 1, 2]  # 1 ran here
    best = [t for t in trials if t.data.tags.get("mlops.best") == "true"]
    assert [b.data.tags["mlops.trial"] for b in best] == ["2"]
    assert {
        t.data.tags.get("mlops.parentRunId", t.data.tags.get("mlflow.parentRunId")) for t in trials
    } == {step.run_id}
    report = build(workspace=ws, only="use", progress=False, wait=True)
    assert report.step("use").status == "ran"
    chosen = json.loads((ws.root / "chosen.json").read_text())
    assert chosen == {"x": 3, "run": best[0].info.run_id}
