"""Gates that really gate: a real papermill business notebook, fairlearn, permutation importance."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from release_support import FEATURES, fit_model, log_model_run, make_data

from jupyter_mlops.errors import ConfigError, GateFailed
from jupyter_mlops.release import registration, rollout, validation
from jupyter_mlops.release.policy import load_policy
from jupyter_mlops.store.client import client_for
from jupyter_mlops.store.gateway import gateway_for

EXAMPLE_GATE = Path(__file__).parent.parent / "example_notebooks" / "gate_business.ipynb"

POLICY = """\
project: gates-test
release:
  model: churn
  intended_use: Rank customers by churn risk for the retention team.
  evaluation: {path: eval.csv, target: label}
  gates:
    metrics: {accuracy: {min: 0.75}}
    champion: {metric: accuracy, min_delta: -0.02}
    signature: true
    latency: {p95_ms: 200, n: 30}
    size: {max_mb: 20}
    fairness: {sensitive: group, metric: accuracy, max_disparity: 0.15}
    importance: {top: 3, forbid: [customer_id]}
"""


def setup_project(ws, business: bool = False, min_net_value: float = 0.0):
    text = POLICY
    if business:
        shutil.copy(EXAMPLE_GATE, ws.root / "gate_business.ipynb")
        text += (
            "    business: {notebook: gate_business.ipynb, parameters: "
            f"{{positive_label: 1, min_net_value: {min_net_value}}}}}\n"
        )
    (ws.root / "mlops.yaml").write_text(text)
    df = make_data(400, seed=1)
    df.to_csv(ws.root / "eval.csv", index=False)
    return make_data(600, seed=0)


def new_version(ws, df, kind):
    run_id, _ = log_model_run(ws, fit_model(df, kind), df, name=kind)
    return registration.register(gateway_for(ws), run_id, "churn").version


def test_good_model_passes_every_gate_and_is_recorded(workspace):
    df = setup_project(workspace, business=True)
    v = new_version(workspace, df, "good")
    report = validation.validate(gateway_for(workspace), "churn", v, reason="first release")
    assert report.passed, report.text()
    names = [r.gate for r in report.results]
    assert names == [
        "metrics.accuracy",
        "champion",
        "signature",
        "latency",
        "size",
        "business",
        "fairness",
        "importance",
    ]
    business = next(r for r in report.results if r.gate == "business")
    assert business.details["kpis"]["net_value_per_100"] > 0
    client = client_for(workspace)
    mv = client.get_model_version("churn", v)
    assert mv.tags["mlops.gates"] == "passed"
    assert mv.tags["mlops.gate.fairness"].startswith("pass")
    run = client.get_run(mv.tags["mlops.gate_run_id"])
    assert run.data.tags["mlops.kind"] == "gate"
    assert run.data.metrics["gate.metrics.accuracy.passed"] == 1.0
    assert run.data.metrics["kpi.net_value_per_100"] > 0
    logged = {a.path for a in client.list_artifacts(run.info.run_id, "gates")}
    assert {
        "gates/gates.json",
        "gates/fairness.png",
        "gates/importance.png",
        "gates/business_gate.ipynb",
    } <= logged
    card = {a.path for a in client.list_artifacts(run.info.run_id, "card")}
    assert "card/model_card.md" in card and "card/model_card.html" in card
    rollout.promote(gateway_for(workspace), "churn", v, "champion")
    from jupyter_mlops.release.card import write_card

    card = write_card(gateway_for(workspace), "churn", v)  # rebuilt from what the store recorded
    for section in (
        "## Intended use",
        "## Training data",
        "## Metrics",
        "## Gate results",
        "## Fairness",
        "## Feature importance",
        "## Environment",
        "## Lineage",
    ):
        assert section in card.markdown, section
    assert "Rank customers by churn risk" in card.markdown and run_id_of(mv) in card.markdown
    assert card.html.count("data:image/png;base64,") == 2 and "<table>" in card.html


def run_id_of(mv):
    return mv.run_id


def test_a_worse_model_fails_against_the_champion_and_cannot_be_promoted(workspace):
    df = setup_project(workspace)
    good = new_version(workspace, df, "good")
    assert validation.validate(gateway_for(workspace), "churn", good, write_card=False).passed
    rollout.promote(gateway_for(workspace), "churn", good, "champion")
    bad = new_version(workspace, df, "bad")
    report = validation.validate(gateway_for(workspace), "churn", bad, write_card=False)
    failed = {r.gate for r in report.failed}
    assert {"metrics.accuracy", "champion"} <= failed, report.text()
    champion = next(r for r in report.results if r.gate == "champion")
    assert "worse" in champion.reason and champion.value < 0
    before = client_for(workspace).get_registered_model("churn").aliases
    for target in ("staging", "canary", "champion"):
        with pytest.raises(GateFailed, match="failed"):
            rollout.promote(gateway_for(workspace), "churn", bad, target)
    assert client_for(workspace).get_registered_model("churn").aliases == before


def test_an_unfair_model_fails_the_fairness_gate(workspace):
    df = setup_project(workspace)
    v = new_version(workspace, df, "unfair")
    report = validation.validate(gateway_for(workspace), "churn", v, write_card=False)
    fairness = next(r for r in report.results if r.gate == "fairness")
    assert not fairness.passed, fairness.reason
    assert fairness.value > 0.15 and set(fairness.details["by_group"]) == {"0", "1"}
    importance = next(r for r in report.results if r.gate == "importance")
    assert set(importance.details["importance"]) == set(FEATURES)
    with pytest.raises(GateFailed):
        rollout.promote(gateway_for(workspace), "churn", v, "staging")


def test_the_business_notebook_can_say_no(workspace):
    df = setup_project(workspace, business=True, min_net_value=10_000)
    v = new_version(workspace, df, "good")
    report = validation.validate(gateway_for(workspace), "churn", v, write_card=False)
    business = next(r for r in report.results if r.gate == "business")
    assert not business.passed and "minimum 10000" in business.reason
    assert client_for(workspace).get_model_version("churn", v).tags["mlops.gates"] == "failed"


def test_policy_errors_name_file_key_and_line(workspace):
    (workspace.root / "mlops.yaml").write_text(
        "project: x\nrelease:\n  gates:\n    metrics: {accuracy: {min: 0.8}}\n    speed: {p95_ms: 3}\n"
    )
    with pytest.raises(ConfigError, match=r"mlops.yaml:5: release.gates.speed: unknown gate"):
        load_policy(workspace)
    (workspace.root / "mlops.yaml").write_text(
        "release:\n  evaluation: {path: e.csv, target: y}\n  gates:\n    fairness: {sensitive: g, max_disparity: 2}\n"
    )
    with pytest.raises(ConfigError, match="max_disparity: must be between 0 and 1"):
        load_policy(workspace)


def test_validate_without_declared_gates_is_refused(workspace):
    df = make_data()
    run_id, _ = log_model_run(workspace, fit_model(df), df)
    registration.register(gateway_for(workspace), run_id, "churn")
    with pytest.raises(ConfigError, match="no release gates"):
        validation.validate(gateway_for(workspace), "churn", 1)
    assert FEATURES  # the helper's feature list is what the model was trained on


def test_gates_run_on_a_named_dataset_version(workspace):
    from jupyter_mlops.datasets.api import prepare

    (workspace.root / "mlops.yaml").write_text(
        "release:\n  evaluation: {dataset: churn-eval, target: label}\n"
        "  gates: {metrics: {accuracy: {min: 0.75}}}\n"
    )
    record = prepare(make_data(300, seed=5), "churn-eval", workspace=workspace)
    df = make_data(500)
    v = new_version(workspace, df, "good")
    report = validation.validate(gateway_for(workspace), "churn", v, write_card=False)
    assert report.passed, report.text()
    assert report.evaluation["digest"] == record.version.digest
    assert report.evaluation["name"].startswith("churn-eval@")
    run = client_for(workspace).get_run(report.run_id)
    assert run.data.tags["mlops.eval_digest"] == record.version.digest
