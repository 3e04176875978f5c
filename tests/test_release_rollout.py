"""Registration, staged rollout on aliases, rollback and the audit trail, on a real SQLite registry."""

from __future__ import annotations

import pytest
from release_support import fit_model, log_model_run, make_data, registered

from jupyter_mlops.errors import GateFailed, InvalidInput, NotFound
from jupyter_mlops.release import history, registration, rollout
from jupyter_mlops.store.client import client_for
from jupyter_mlops.store.gateway import gateway_for


def aliases(ws, name="churn"):
    return {k: str(v) for k, v in client_for(ws).get_registered_model(name).aliases.items()}


def test_register_carries_lineage_candidate_alias_and_history(workspace, monkeypatch):
    monkeypatch.setenv("MLOPS_ACTOR", "alice")
    df = make_data()
    run_id, model_id = log_model_run(workspace, fit_model(df), df)
    mv = registration.register(gateway_for(workspace), run_id, "churn", reason="first cut")
    assert mv.version == "1" or mv.version == 1
    assert mv.tags["mlops.run_id"] == run_id
    assert mv.tags["mlops.model_id"] == model_id
    assert mv.tags["mlops.gates"] == "pending"
    assert '"run_id"' in mv.tags["mlops.lineage"]
    assert aliases(workspace) == {"candidate": "1"}
    (event,) = history.events(gateway_for(workspace), "churn")
    assert (event.action, event.version, event.actor, event.reason) == (
        "register",
        "1",
        "alice",
        "first cut",
    )


def test_register_refuses_unknown_run_and_run_without_model(workspace):
    with pytest.raises(NotFound):
        registration.register(gateway_for(workspace), "nosuchrun123", "churn")
    client = client_for(workspace)
    from jupyter_mlops.store.client import experiment_id

    run = client.create_run(experiment_id(workspace))
    with pytest.raises(NotFound, match="no logged model"):
        registration.register(gateway_for(workspace), run.info.run_id, "churn")
    with pytest.raises(InvalidInput, match="not a valid model name"):
        registration.register(gateway_for(workspace), run.info.run_id, "bad name!")


def test_promotion_needs_passed_gates_and_leaves_aliases_alone(workspace):
    df = make_data()
    run_id, _ = log_model_run(workspace, fit_model(df), df)
    registration.register(gateway_for(workspace), run_id, "churn")
    before = aliases(workspace)
    with pytest.raises(GateFailed, match="pending"):
        rollout.promote(gateway_for(workspace), "churn", 1, "champion")
    with pytest.raises(InvalidInput, match="--reason"):
        rollout.promote(gateway_for(workspace), "churn", 1, "champion", force=True)
    assert aliases(workspace) == before
    st = rollout.promote(
        gateway_for(workspace), "churn", 1, "champion", force=True, reason="hotfix"
    )
    assert st.aliases["champion"] == "1"
    last = history.events(gateway_for(workspace), "churn")[-1]
    assert last.details["forced"] is True and last.reason == "hotfix"


def test_bad_requests_are_clear_errors_and_change_nothing(workspace):
    registered(workspace)
    rollout.promote(gateway_for(workspace), "churn", 1, "champion")
    before = aliases(workspace)
    with pytest.raises(NotFound, match="no registered model"):
        rollout.promote(gateway_for(workspace), "nope", 1, "champion")
    with pytest.raises(NotFound, match="no version 9"):
        rollout.promote(gateway_for(workspace), "churn", 9, "champion")
    with pytest.raises(InvalidInput, match="between 0 and 100"):
        rollout.promote(gateway_for(workspace), "churn", 2, "canary", weight=150)
    with pytest.raises(InvalidInput, match="between 0 and 100"):
        rollout.promote(gateway_for(workspace), "churn", 2, "canary", weight=-1)
    with pytest.raises(InvalidInput, match="cannot promote to"):
        rollout.promote(gateway_for(workspace), "churn", 2, "production")
    with pytest.raises(NotFound, match="no alias 'canary'"):
        registration.resolve(gateway_for(workspace), "churn@canary")
    assert aliases(workspace) == before


def test_staged_rollout_and_rollbacks(workspace):
    registered(workspace, kinds=("good", "good", "good"))
    rollout.promote(gateway_for(workspace), "churn", 1, "champion")
    rollout.promote(gateway_for(workspace), "churn", 2, "staging")
    st = rollout.promote(gateway_for(workspace), "churn", 2, "canary", weight=25)
    assert (st.aliases["canary"], st.canary_weight) == ("2", 25.0)
    st = rollout.set_canary_weight(gateway_for(workspace), "churn", 50, reason="looks fine")
    assert st.canary_weight == 50.0
    st = rollout.promote(gateway_for(workspace), "churn", 2, "champion")
    assert st.aliases["champion"] == "2" and st.aliases["previous"] == "1"
    assert "canary" not in st.aliases and st.canary_weight == 0
    # a bad canary goes away, the champion stays
    rollout.promote(gateway_for(workspace), "churn", 3, "canary", weight=10)
    st = rollout.rollback(gateway_for(workspace), "churn", reason="error rate")
    assert "canary" not in st.aliases and st.aliases["champion"] == "2"
    # then the champion itself goes back to the previous one
    st = rollout.rollback(gateway_for(workspace), "churn", reason="revenue down")
    assert st.aliases["champion"] == "1" and "previous" not in st.aliases
    assert client_for(workspace).get_model_version("churn", "2").tags["mlops.rolled_back"] == "true"
    with pytest.raises(NotFound, match="no previous champion"):
        rollout.rollback(gateway_for(workspace), "churn")
    actions = [(e.action, e.version) for e in history.events(gateway_for(workspace), "churn")]
    assert actions[-5:] == [
        ("weight", "2"),
        ("promote", "2"),
        ("promote", "3"),
        ("rollback", "3"),
        ("rollback", "1"),
    ]
    text = history.format_history(history.events(gateway_for(workspace), "churn"))
    assert "revenue down" in text and "error rate" in text


def test_sources_outside_the_store_are_refused(workspace, tmp_path):
    with pytest.raises(InvalidInput, match="outside this workspace"):
        registration.check_source(workspace, (tmp_path / "evil").as_uri())
    with pytest.raises(InvalidInput, match="outside this workspace"):
        registration.check_source(workspace, "http://example.com/model.pkl")
    inside = workspace.artifacts_dir / "x" / "model"
    assert registration.check_source(workspace, inside.as_uri()).local_path == inside.resolve()


def test_sources_on_a_tracking_server_must_be_its_own(tmp_path):
    from jupyter_mlops.workspace import Workspace

    ws = Workspace(root=tmp_path, _tracking_uri="http://127.0.0.1:5999")
    assert (
        registration.check_source(ws, "mlflow-artifacts:/1/models/m-1/artifacts").local_path is None
    )
    assert registration.check_source(ws, "mlflow-artifacts://127.0.0.1:5999/1/m").uri
    root = "s3://bucket/mlflow/1"
    assert registration.check_source(ws, f"{root}/models/m-1/artifacts", experiment_root=root)
    for bad in (
        "mlflow-artifacts://evil.example/1/m",
        "http://evil.example/model.pkl",
        "s3://other-bucket/model",
        f"{root}/../../other/model",
    ):
        with pytest.raises(InvalidInput):
            registration.check_source(ws, bad, experiment_root=root)
    with pytest.raises(InvalidInput):
        registration.check_source(ws, f"{root}/models/m-1")  # root unknown: refused
