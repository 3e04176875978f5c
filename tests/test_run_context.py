"""Run-context providers: a registry merges their tags as a run starts (like MLflow's)."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap

import pytest

import jupyter_mlops
from jupyter_mlops.capture import tracker
from jupyter_mlops.capture.context_providers import (
    GitContext,
    PapermillContext,
    injected_parameters,
    run_context_registry,
)
from jupyter_mlops.capture.run_context import (
    ENTRY_POINT_GROUP,
    ERRORS_TAG,
    RunContextRegistry,
    RunStart,
)
from jupyter_mlops.errors import ConfigError
from jupyter_mlops.store.client import client_for
from jupyter_mlops.store.gateway import gateway_for
from jupyter_mlops.store.run_details import read_text_artifact


class FixedContext:
    def __init__(self, name: str, tags: dict[str, str], applies: bool = True) -> None:
        self.name, self._tags, self._applies = name, tags, applies

    def in_context(self, run: RunStart) -> bool:
        return self._applies

    def tags(self, run: RunStart) -> dict[str, str]:
        return dict(self._tags)


class BrokenContext:
    name = "broken"

    def in_context(self, run: RunStart) -> bool:
        return True

    def tags(self, run: RunStart) -> dict[str, str]:
        raise RuntimeError("cluster API unreachable")


def _registry(*providers) -> RunContextRegistry:
    registry = RunContextRegistry(list(providers))
    registry.register_entry_points = lambda: None  # only the providers given here
    registry._entry_points_loaded = True
    return registry


def _start(workspace) -> RunStart:
    return RunStart(workspace, "run")


def test_later_providers_override_earlier_ones_and_out_of_context_ones_are_skipped(workspace):
    registry = _registry(
        FixedContext("first", {"team": "a", "host": "x"}),
        FixedContext("second", {"team": "b"}),
        FixedContext("elsewhere", {"team": "c"}, applies=False),
    )
    assert registry.resolve(_start(workspace)).tags == {"team": "b", "host": "x"}
    registry.register(FixedContext("first", {"team": "z"}))  # same name: replaced, moved last
    assert [p.name for p in registry.providers()] == ["second", "elsewhere", "first"]
    assert registry.resolve(_start(workspace)).tags == {"team": "z"}


def test_a_failing_provider_costs_only_its_tags_and_is_named(workspace, caplog):
    registry = _registry(FixedContext("ok", {"team": "a"}), BrokenContext())
    with caplog.at_level(logging.DEBUG, logger="jupyter_mlops"):
        tags = registry.resolve(_start(workspace)).tags
    assert tags["team"] == "a"
    assert tags[ERRORS_TAG] == "broken: RuntimeError: cluster API unreachable"
    [record] = [r for r in caplog.records if "broken" in r.getMessage()]
    assert record.levelno == logging.DEBUG
    assert record.exc_info is not None


def test_something_that_is_not_a_provider_is_refused():
    with pytest.raises(ConfigError, match="is not a run-context provider"):
        RunContextRegistry().register(object())


def test_providers_from_entry_points_come_after_the_builtins(tmp_path, monkeypatch, workspace):
    (tmp_path / "extra_context.py").write_text(
        textwrap.dedent(
            """
            class ClusterContext:
                name = "cluster"
                def in_context(self, run): return True
                def tags(self, run): return {"cluster": "gpu-a", "mlops.kind": "spoofed"}
            """
        )
    )
    dist = tmp_path / "extra_context-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: extra-context\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\n"
        "cluster = extra_context:ClusterContext\n"
        "missing = extra_context:NoSuchContext\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        registry = RunContextRegistry([FixedContext("builtin", {"cluster": "none"})])
        assert [p.name for p in registry.providers()] == ["builtin", "cluster"]
        tags = registry.resolve(_start(workspace)).tags
        assert tags["cluster"] == "gpu-a"  # registered later: overrides the built-in
        assert tags[ERRORS_TAG].startswith("missing: AttributeError")
    finally:
        sys.modules.pop("extra_context", None)


def test_a_tracked_run_carries_provider_tags_and_survives_a_broken_provider(workspace, monkeypatch):
    monkeypatch.setitem(run_context_registry._providers, "broken", BrokenContext())
    monkeypatch.setitem(
        run_context_registry._providers, "cluster", FixedContext("cluster", {"cluster": "gpu-a"})
    )
    monkeypatch.setitem(injected_parameters, "alpha", 0.25)
    with jupyter_mlops.track(name="ctx", workspace=workspace, tags={"cluster": "mine"}) as run:
        jupyter_mlops.log_metrics(score=1.0)
    run_id = run.wait_run_id()
    tracker.shutdown_recorders()
    got = client_for(workspace).get_run(run_id)
    assert got.info.status == "FINISHED"
    assert got.data.tags["cluster"] == "mine"  # the run's own tags win
    assert got.data.tags["mlops.param.alpha"] == "0.25"
    assert got.data.tags["mlops.kind"] == "run"
    assert got.data.tags["mlops.env_hash"]
    assert got.data.tags[ERRORS_TAG] == "broken: RuntimeError: cluster API unreachable"


def _git(root, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=root,
        check=True,
        capture_output=True,
    )


def test_git_state_is_read_off_the_cells_path_and_tags_the_run(workspace):
    root = workspace.root
    (root / "train.py").write_text("alpha = 1\n")
    _git(root, "init", "-q")
    _git(root, "add", "train.py")
    _git(root, "commit", "-q", "-m", "first")
    (root / "train.py").write_text("alpha = 2\n")
    start = RunStart(workspace, "run")
    resolved = run_context_registry.resolve(start)
    assert "mlops.git_sha" not in resolved.tags  # not asked as the run starts
    assert len(resolved.state_readers) == 1
    expected = GitContext().tags(start)
    assert expected["mlops.git_dirty"] == "true"
    assert len(expected["mlops.git_sha"]) == 40
    with jupyter_mlops.track(name="git", workspace=workspace) as run:
        pass
    run_id = run.wait_run_id()
    tracker.shutdown_recorders()
    got = client_for(workspace).get_run(run_id)
    assert {k: got.data.tags.get(k) for k in expected} == expected
    assert "+alpha = 2" in read_text_artifact(gateway_for(workspace), run_id, "mlops/git.diff")


def test_papermill_context_applies_only_to_a_kernel_papermill_ran(workspace, monkeypatch):
    start = RunStart(workspace, "cell")
    assert not PapermillContext().in_context(start)
    monkeypatch.setitem(injected_parameters, "alpha", [1, 2])
    assert PapermillContext().tags(start) == {"mlops.param.alpha": "[1, 2]"}
