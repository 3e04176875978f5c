"""mlops.yaml validation: every error names the file, the key path and the line."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from jupyter_mlops.errors import ConfigError
from jupyter_mlops.pipeline.spec import load_spec, parse_spec
from jupyter_mlops.workspace import Workspace

GOOD = """\
project: demo
experiment: demo-exp
steps:
  prepare:
    notebook: prep.ipynb
    parameters: {n: 10, name: "x", ratio: 0.5, flags: [1, 2], opts: {a: null, b: true}}
    outputs: [data/out.csv]
  train:
    notebook: train.ipynb
    needs: [prepare]
    inputs: [data/out.csv]
    timeout: 30
    retries: 1
    sweep:
      method: optuna
      trials: 4
      parameters:
        C: {low: 0.01, high: 10, log: true}
        kernel: [linear, rbf]
      metric: accuracy
      direction: maximize
      early_stopping: {patience: 3, pruner: median}
release:
  gates: {anything: [1, 2]}
monitor:
  drift: {threshold: 0.2}
"""


def _ws(tmp_path: Path, text: str) -> Workspace:
    (tmp_path / "mlops.yaml").write_text(text)
    return Workspace.find(tmp_path)


def _error(tmp_path: Path, text: str) -> ConfigError:
    ws = _ws(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        parse_spec(ws.config_path, ws)
    return info.value


def test_valid_spec_with_release_and_monitor_sections(tmp_path: Path) -> None:
    ws = _ws(tmp_path, GOOD)
    spec = parse_spec(ws.config_path, ws)
    assert spec.project == "demo" and spec.experiment == "demo-exp"
    assert list(spec.steps) == ["prepare", "train"]
    train = spec.steps["train"]
    assert train.needs == ("prepare",) and train.retries == 1 and train.timeout == 30
    assert train.sweep is not None and train.sweep.method == "optuna" and train.sweep.trials == 4
    assert train.sweep.early_stopping == {"patience": 3, "pruner": "median"}
    assert spec.steps["prepare"].parameters["opts"] == {"a": None, "b": True}
    assert train.line == 8


def test_unknown_top_level_key_names_key_and_line(tmp_path: Path) -> None:
    err = _error(tmp_path, "project: x\nsteps: {}\nrelaese:\n  a: 1\n")
    assert err.key == "relaese" and err.line == 3
    assert "unknown top-level key 'relaese'" in str(err)
    assert str(tmp_path / "mlops.yaml") in str(err)


def test_release_must_be_a_mapping(tmp_path: Path) -> None:
    err = _error(tmp_path, "project: x\nrelease: [1, 2]\n")
    assert err.key == "release" and err.line == 2


def test_unknown_step_key(tmp_path: Path) -> None:
    err = _error(tmp_path, "steps:\n  a:\n    notebook: a.ipynb\n    needz: [b]\n")
    assert err.key == "steps.a.needz" and err.line == 4


def test_missing_notebook_key(tmp_path: Path) -> None:
    err = _error(tmp_path, "steps:\n  a:\n    parameters: {x: 1}\n")
    assert err.key == "steps.a" and "notebook" in str(err) and err.line == 2


def test_unknown_need_is_named(tmp_path: Path) -> None:
    err = _error(tmp_path, "steps:\n  a:\n    notebook: a.ipynb\n    needs: [b]\n")
    assert "needs unknown step 'b'" in str(err) and err.key == "steps.a.needs.0" and err.line == 4


def test_cycle_is_named(tmp_path: Path) -> None:
    text = (
        "steps:\n  a:\n    notebook: a.ipynb\n    needs: [c]\n  b:\n    notebook: b.ipynb\n"
        "    needs: [a]\n  c:\n    notebook: c.ipynb\n    needs: [b]\n"
    )
    err = _error(tmp_path, text)
    assert "cycle: a -> c -> b -> a" in str(err)


@pytest.mark.parametrize("name", ["1x", "a-b", "x y"])
def test_parameter_names_must_be_identifiers(tmp_path: Path, name: str) -> None:
    err = _error(
        tmp_path, f'steps:\n  a:\n    notebook: a.ipynb\n    parameters:\n      "{name}": 1\n'
    )
    assert err.key == f"steps.a.parameters.{name}" and err.line == 5


def test_keyword_parameter_name_refused(tmp_path: Path) -> None:
    err = _error(
        tmp_path, "steps:\n  a:\n    notebook: a.ipynb\n    parameters:\n      import: 1\n"
    )
    assert "'import' is not a valid parameter name" in str(err)


def test_non_literal_parameter_value_refused(tmp_path: Path) -> None:
    # YAML turns this into a datetime.date: not something papermill can inject as a literal
    err = _error(
        tmp_path, "steps:\n  a:\n    notebook: a.ipynb\n    parameters:\n      day: 2024-01-02\n"
    )
    assert err.key == "steps.a.parameters.day" and err.line == 5


def test_object_tags_refused(tmp_path: Path) -> None:
    err = _error(tmp_path, "steps:\n  a:\n    notebook: !!python/object/apply:os.system [ls]\n")
    assert err.line == 3 and "tag" in str(err)


def test_alias_bomb_rejected_quickly(tmp_path: Path) -> None:
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for i in range(1, 40):
        lines.append(f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]")
    started = time.perf_counter()
    err = _error(tmp_path, "\n".join(lines) + "\n")
    assert time.perf_counter() - started < 2
    assert "alias" in str(err)


def test_huge_file_rejected(tmp_path: Path) -> None:
    err = _error(tmp_path, "project: x\n" + "# padding\n" * 200_000)
    assert "limit" in str(err)


def test_paths_must_stay_inside_the_project(tmp_path: Path) -> None:
    err = _error(
        tmp_path, "steps:\n  a:\n    notebook: a.ipynb\n    outputs: [ok.csv, ../../etc/x]\n"
    )
    assert err.key == "steps.a.outputs.1" and err.line == 4


def test_grid_sweep_needs_lists(tmp_path: Path) -> None:
    text = (
        "steps:\n  a:\n    notebook: a.ipynb\n    sweep:\n      metric: m\n      parameters:\n"
        "        C: {low: 1, high: 2}\n"
    )
    err = _error(tmp_path, text)
    assert err.key == "steps.a.sweep.parameters.C" and err.line == 7


def test_random_sweep_needs_budget(tmp_path: Path) -> None:
    text = (
        "steps:\n  a:\n    notebook: a.ipynb\n    sweep:\n      method: random\n      metric: m\n"
        "      parameters:\n        C: [1, 2]\n"
    )
    err = _error(tmp_path, text)
    assert "trial budget" in str(err) and err.line == 4


def test_wrong_type_names_key_and_line(tmp_path: Path) -> None:
    err = _error(tmp_path, "steps:\n  a:\n    notebook: a.ipynb\n    retries: many\n")
    assert err.key == "steps.a.retries" and err.line == 4


def test_spec_cache_follows_file_bytes(tmp_path: Path) -> None:
    ws = _ws(tmp_path, GOOD)
    first = load_spec(ws)
    assert (tmp_path / ".mlops" / "cache" / "spec.json").is_file()
    assert load_spec(ws) == first
    (tmp_path / "mlops.yaml").write_text(GOOD.replace("project: demo", "project: other"))
    assert load_spec(ws).project == "other"
    (tmp_path / "mlops.yaml").write_text(GOOD + "bogus: 1\n")
    with pytest.raises(ConfigError):
        load_spec(ws)
