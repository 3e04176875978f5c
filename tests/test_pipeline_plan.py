"""The planner on its own: cache decisions and handed-down parameters, without kernels or MLflow."""

from __future__ import annotations

from pathlib import Path

import pytest
from notebook_support import make_notebook

from jupyter_mlops.pipeline.cache import CacheIndex
from jupyter_mlops.pipeline.plan import Planner, declared_parameters
from jupyter_mlops.pipeline.spec import parse_spec
from jupyter_mlops.store.gateway import gateway_for
from jupyter_mlops.workspace import Workspace

SPEC = """\
project: plan-test
steps:
  prepare:
    notebook: prepare.ipynb
    parameters: {seed: 0}
    outputs: [data.csv]
  train:
    notebook: train.ipynb
    needs: [prepare]
    inputs: [data.csv]
"""


@pytest.fixture
def project(tmp_path: Path):
    (tmp_path / "mlops.yaml").write_text(SPEC)
    make_notebook(tmp_path / "prepare.ipynb", "seed = 1", "open('data.csv', 'w').write('x')")
    make_notebook(tmp_path / "train.ipynb", "prepare_run_id = None\nC: float = 1.0", "print(C)")
    return Workspace(tmp_path)


def plan(ws: Workspace, *, force: bool = False, env: str = "env-1") -> dict[str, tuple[str, str]]:
    spec = parse_spec(ws.config_path, ws)
    plans = Planner(gateway_for(ws), spec, CacheIndex(ws), env, force=force).plan_all(
        ["prepare", "train"]
    )
    return {p.step.name: (p.action, p.reason) for p in plans}


def build(ws: Workspace, step: str, *, run_id: str, extra: dict | None = None) -> None:
    """Record ``step`` as built from the current files, as a finished step run would."""
    spec = parse_spec(ws.config_path, ws)
    cache = CacheIndex(ws)
    planner = Planner(gateway_for(ws), spec, cache, "env-1")
    upstream = {n: cache.lookup(planner._latest_entry(n)["key"]) for n in spec.steps[step].needs}
    key = planner.evaluate(spec.steps[step], upstream).key
    outputs, missing = cache.store_outputs(spec.steps[step].outputs)
    assert not missing
    cache.record(key, run_id=run_id, outputs=outputs, metrics={}, extra=extra)
    cache.save()


def test_declared_parameters_reads_the_tagged_cell(tmp_path):
    nb = make_notebook(tmp_path / "a.ipynb", "a = 1\nb: int = 2\nc, d = 3, 4\nprint(a)", "e = 5")
    assert declared_parameters(nb) == {"a", "b"}  # tuple targets are not plain names
    assert declared_parameters(make_notebook(tmp_path / "b.ipynb", None, "x = 1")) == set()
    assert declared_parameters(make_notebook(tmp_path / "c.ipynb", "x = (", "y = 1")) == set()


def test_nothing_built_runs_the_first_step_and_blocks_the_rest(project):
    assert plan(project) == {
        "prepare": ("run", "never built"),
        "train": ("blocked", "needed step prepare will run"),
    }


def test_built_steps_are_cached_and_hand_down_their_run(project):
    (project.root / "data.csv").write_text("x")
    build(project, "prepare", run_id="r-prepare")
    assert plan(project) == {"prepare": ("cached", "unchanged"), "train": ("run", "never built")}
    spec = parse_spec(project.config_path, project)
    cache = CacheIndex(project)
    planner = Planner(gateway_for(project), spec, cache, "env-1")
    handed = planner.parameters_for(spec.steps["train"], {"prepare": {"run_id": "r-prepare"}})
    assert handed == {"prepare_run_id": "r-prepare"}  # declared by train's parameters cell
    best = {"prepare": {"run_id": "r", "best_run_id": "r-best", "best_params": {"C": 3, "q": 1}}}
    handed = planner.parameters_for(spec.steps["train"], best)
    assert handed == {"prepare_run_id": "r-best", "C": 3}  # q is not declared: not handed


def test_each_part_of_the_key_explains_a_rebuild(project):
    (project.root / "data.csv").write_text("x")
    build(project, "prepare", run_id="r1")
    build(project, "train", run_id="r2")
    assert plan(project)["train"] == ("cached", "unchanged")
    assert plan(project, force=True)["prepare"] == ("run", "forced")
    assert plan(project, env="env-2")["prepare"] == ("run", "environment changed")

    make_notebook(project.root / "train.ipynb", "prepare_run_id = None\nC = 1.0", "print(C + 1)")
    assert plan(project)["train"] == ("run", "notebook code changed")
    make_notebook(project.root / "train.ipynb", "prepare_run_id = None\nC: float = 1.0", "print(C)")
    assert plan(project)["train"] == ("cached", "unchanged")  # back as it was: the same key

    (project.root / "mlops.yaml").write_text(SPEC.replace("seed: 0", "seed: 7"))
    assert plan(project) == {
        "prepare": ("run", "parameters changed"),
        "train": ("blocked", "needed step prepare will run"),
    }


def test_a_lost_output_is_restored_from_the_cache_or_rebuilt(project):
    data = project.root / "data.csv"
    data.write_text("x")
    build(project, "prepare", run_id="r1")
    data.unlink()
    assert plan(project)["prepare"] == ("cached", "unchanged")  # its bytes are in the cache
    for obj in (project.state_dir / "cache" / "objects").rglob("*"):
        if obj.is_file():
            obj.unlink()
    assert plan(project)["prepare"] == ("run", "output data.csv is gone and not in the cache")


def test_a_changed_input_names_the_file(project):
    (project.root / "mlops.yaml").write_text(
        SPEC.replace("    outputs: [data.csv]", "    inputs: [raw.csv]\n    outputs: [data.csv]")
    )
    raw, data = project.root / "raw.csv", project.root / "data.csv"
    raw.write_text("a")
    data.write_text("x")
    build(project, "prepare", run_id="r1")
    build(project, "train", run_id="r2")
    assert plan(project) == {"prepare": ("cached", "unchanged"), "train": ("cached", "unchanged")}
    # a file a step produces counts with its recorded digest: edited by hand, it is restored
    data.write_text("edited by hand")
    assert plan(project)["train"] == ("cached", "unchanged")
    raw.write_text("b")  # a source file no step produces
    assert plan(project) == {
        "prepare": ("run", "input raw.csv changed"),
        "train": ("blocked", "needed step prepare will run"),
    }
