"""Hostile mlops.yaml files: alias bombs that hide in valid places, deep nesting, recursive
aliases, duplicate and misspelled keys. Each is refused fast with one ConfigError naming file:line."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from jupyter_mlops.errors import ConfigError
from jupyter_mlops.pipeline.spec import parse_spec
from jupyter_mlops.release.policy import load_policy
from jupyter_mlops.workspace import Workspace

STEP = "steps:\n  a:\n    notebook: a.ipynb\n    parameters:\n"


def _ws(tmp_path: Path, text: str) -> Workspace:
    (tmp_path / "mlops.yaml").write_text(text)
    return Workspace.find(tmp_path)


def _load_error(tmp_path: Path, text: str, load=None) -> ConfigError:
    """The ConfigError every loader of mlops.yaml raises for ``text`` (all must agree)."""
    ws = _ws(tmp_path, text)
    errors = []
    for loader in (lambda: parse_spec(ws.config_path, ws), lambda: _ws(tmp_path, text).config):
        with pytest.raises(ConfigError) as info:
            loader()
        errors.append(info.value)
    assert str(errors[0]) == str(errors[1])
    err = errors[0]
    assert "\n" not in str(err)
    assert str(err).startswith(f"{tmp_path / 'mlops.yaml'}:{err.line}: ")
    return err


def bomb(levels: int = 9, width: int = 10) -> str:
    """``levels * width`` aliases expanding to ``width ** (levels + 1)`` values, all of them in a
    place the schema accepts (step parameters)."""
    lines = [f"      p0: &a0 [{', '.join(['x'] * width)}]"]
    for i in range(1, levels + 1):
        lines.append(f"      p{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]")
    return STEP + "\n".join(lines) + "\n"


def test_an_alias_bomb_in_valid_parameters_fails_fast_naming_its_line(tmp_path: Path) -> None:
    started = time.perf_counter()
    err = _load_error(tmp_path, bomb())
    assert time.perf_counter() - started < 2
    assert "expands to more than" in str(err)
    assert err.line is not None and 5 <= err.line <= 14


def test_a_small_alias_tree_is_fine(tmp_path: Path) -> None:
    ws = _ws(tmp_path, bomb(levels=2, width=3))
    spec = parse_spec(ws.config_path, ws)
    assert spec.steps["a"].parameters["p2"] == [[["x"] * 3] * 3] * 3


def test_deep_nesting_is_a_config_error_not_a_recursion_error(tmp_path: Path) -> None:
    deep = "[" * 5000 + "]" * 5000
    err = _load_error(tmp_path, f"{STEP}      p: {deep}\n")
    assert "nested deeper than" in str(err) and err.line == 5
    block = "".join(f"{'  ' * i}k{i}:\n" for i in range(200)) + "  " * 200 + "v: 1\n"
    err = _load_error(tmp_path, block)
    assert "nested deeper than" in str(err)


def test_a_recursive_alias_is_refused(tmp_path: Path) -> None:
    err = _load_error(tmp_path, f"{STEP}      p: &loop [1, *loop]\n")
    assert "refers to itself" in str(err) and err.line == 5


@pytest.mark.parametrize(
    ("text", "key", "line"),
    [
        ("project: x\nproject: y\n", "project", 2),
        ("steps:\n  a:\n    notebook: a.ipynb\n  a:\n    notebook: b.ipynb\n", "steps.a", 4),
        (STEP + "      n: 1\n      n: 2\n", "steps.a.parameters.n", 6),
        ("release:\n  gates: {size: {max_mb: 1}, size: {max_mb: 9}}\n", "release.gates.size", 2),
    ],
)
def test_duplicate_keys_are_refused_naming_the_second(tmp_path, text, key, line) -> None:
    err = _load_error(tmp_path, text)
    assert f"duplicate key {key.rsplit('.', 1)[-1]!r}" in str(err)
    assert err.key == key and err.line == line


def test_duplicate_keys_are_refused_by_the_release_loader_too(tmp_path: Path) -> None:
    ws = _ws(tmp_path, "release:\n  model: a\n  model: b\n")
    with pytest.raises(ConfigError, match="duplicate key 'model'"):
        load_policy(ws)


def test_a_misspelled_top_level_key_gets_a_did_you_mean(tmp_path: Path) -> None:
    err = _load_error(tmp_path, "project: x\nexperimnet: churn\n")
    assert err.key == "experimnet" and err.line == 2
    assert "did you mean 'experiment'?" in str(err)


def test_a_misspelled_key_stops_tracking_too_not_only_builds(tmp_path: Path) -> None:
    ws = _ws(tmp_path, "experimnet: churn\n")
    with pytest.raises(ConfigError, match="did you mean 'experiment'"):
        _ = ws.default_experiment


def test_a_misspelled_step_key_gets_a_did_you_mean(tmp_path: Path) -> None:
    ws = _ws(tmp_path, "steps:\n  a:\n    notebok: a.ipynb\n")
    with pytest.raises(ConfigError) as info:
        parse_spec(ws.config_path, ws)
    assert "did you mean 'notebook'?" in str(info.value) and info.value.line == 3


def test_the_cli_says_it_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "mlops.yaml").write_text("experimnet: churn\n")
    done = subprocess.run(
        [sys.executable, "-m", "jupyter_mlops.cli", "runs"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
    assert "did you mean 'experiment'" in lines[0] and "Traceback" not in done.stderr
    assert len(lines) <= 2, done.stderr  # the error, and at most its hint
    assert not (tmp_path / ".mlops").exists()


def test_a_control_character_is_a_config_error_naming_its_line(tmp_path: Path) -> None:
    """Found by the fuzzer (tests/test_fuzz_inputs.py): it was a yaml.ReaderError traceback."""
    err = _load_error(tmp_path, "project: x\nexperiment: a\x1fb\n")
    assert err.line == 2 and "not allowed" in str(err)


@pytest.mark.parametrize(
    ("text", "suggestion"),
    [
        ("release:\n  modle: churn\n", "model"),
        ("release:\n  model: churn\n  gates: {sise: {max_mb: 1}}\n", "size"),
        ("monitor:\n  drfit: {threshold: 0.2}\n", "drift"),
    ],
)
def test_misspelled_release_and_monitor_keys_get_a_did_you_mean(tmp_path, text, suggestion):
    from jupyter_mlops.monitor.thresholds import load_monitor_config

    ws = _ws(tmp_path, text)
    load = load_policy if text.startswith("release") else load_monitor_config
    with pytest.raises(ConfigError) as info:
        load(ws)
    assert f"did you mean {suggestion!r}?" in str(info.value)
