"""Release gates come from a registry: built-ins, gates registered in code, and entry points."""

from __future__ import annotations

import sys
import textwrap

import pytest
from release_support import fit_model, log_model_run, make_data

from jupyter_mlops.errors import ConfigError
from jupyter_mlops.release import registration, validation
from jupyter_mlops.release.gates.registry import ENTRY_POINT_GROUP, ReleaseGates, release_gates
from jupyter_mlops.release.gates.result import GateResult
from jupyter_mlops.release.policy import load_policy
from jupyter_mlops.store.gateway import gateway_for


class RowCountGate:
    """A gate from outside the package: the evaluation data must have enough rows."""

    name, kind, needs_evaluation = "rows", "business", True

    def check_config(self, site, keys, spec):
        spec = site.mapping(keys, spec)
        site.number(keys + ["min"], spec.get("min"), 1)
        return spec

    def metrics_needed(self, spec):
        return {"f1"}

    def run(self, ctx, spec):
        n = len(ctx.data.X)
        ok = n >= spec["min"]
        return [GateResult("rows", self.kind, ok, n, f">= {spec['min']}", f"{n} rows")]


@pytest.fixture
def rows_gate():
    release_gates.register(RowCountGate())
    yield
    release_gates._gates.pop("rows", None)


def write_policy(ws, gates_yaml: str) -> None:
    (ws.root / "mlops.yaml").write_text(
        "project: registry-test\nrelease:\n  model: churn\n"
        "  evaluation: {path: eval.csv, target: label}\n  gates:\n" + gates_yaml
    )
    make_data(300, seed=1).to_csv(ws.root / "eval.csv", index=False)


def test_builtins_are_registered_in_their_running_order():
    assert release_gates.names()[:8] == [
        "metrics",
        "champion",
        "signature",
        "latency",
        "size",
        "business",
        "fairness",
        "importance",
    ]


def test_a_registered_gate_is_checked_run_and_recorded(workspace, rows_gate):
    write_policy(workspace, "    size: {max_mb: 50}\n    rows: {min: 250}\n")
    df = make_data(500, seed=0)
    run_id, _ = log_model_run(workspace, fit_model(df, "good"), df, name="good")
    version = registration.register(gateway_for(workspace), run_id, "churn").version
    report = validation.validate(gateway_for(workspace), "churn", version, write_card=False)
    assert [r.gate for r in report.results] == ["size", "rows"]  # registration order
    assert report.passed, report.text()
    assert "f1" in report.metrics  # the gate asked for it


def test_a_registered_gate_checks_its_own_settings(workspace, rows_gate):
    write_policy(workspace, "    rows: {min: zero}\n")
    with pytest.raises(ConfigError) as err:
        load_policy(workspace)
    assert err.value.key == "release.gates.rows.min"
    assert "must be a number" in str(err.value)


def test_an_unknown_gate_lists_the_registered_ones(workspace, rows_gate):
    write_policy(workspace, "    rowz: {min: 1}\n")
    with pytest.raises(ConfigError) as err:
        load_policy(workspace)
    assert "rows" in str(err.value.hint) and "fairness" in str(err.value.hint)


def test_a_gate_that_raises_fails_alone(workspace, rows_gate, monkeypatch):
    def boom(ctx, spec):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(release_gates.get("rows"), "run", boom)
    write_policy(workspace, "    size: {max_mb: 50}\n    rows: {min: 1}\n")
    df = make_data(400, seed=0)
    run_id, _ = log_model_run(workspace, fit_model(df, "good"), df, name="good")
    version = registration.register(gateway_for(workspace), run_id, "churn").version
    report = validation.validate(gateway_for(workspace), "churn", version, write_card=False)
    verdicts = {r.gate: (r.passed, r.reason) for r in report.results}
    assert verdicts["size"][0] is True
    assert verdicts["rows"] == (False, "error: RuntimeError: disk on fire")
    assert not report.passed


def test_gates_from_entry_points(tmp_path, monkeypatch, caplog):
    """A package on the path declaring the entry-point group adds its gates; a broken one is
    logged and left out."""
    (tmp_path / "extra_gates.py").write_text(
        textwrap.dedent(
            """
            class AlwaysGate:
                name, kind, needs_evaluation = "always", "technical", False
                def check_config(self, site, keys, spec): return spec
                def metrics_needed(self, spec): return set()
                def run(self, ctx, spec): return []
            """
        )
    )
    dist = tmp_path / "extra_gates-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: extra-gates\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\nalways = extra_gates:AlwaysGate\nbroken = extra_gates:NoSuchGate\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    fresh = ReleaseGates()
    with caplog.at_level("WARNING", logger="jupyter_mlops"):
        names = fresh.names()
    assert names == ["always"]
    assert "'broken'" in caplog.text
    sys.modules.pop("extra_gates", None)


def test_something_that_is_not_a_gate_is_refused():
    with pytest.raises(ConfigError, match="is not a release gate"):
        ReleaseGates().register(object())
