"""Approvals on a team server with MLflow's auth app: the approver is the user the server
authenticates (MLOPS_ACTOR cannot pose as someone else), the registrant may not approve, and
deciding needs MANAGE on the model."""

from __future__ import annotations

import pytest
import team_server
from release_support import fit_model, log_model_run, make_data
from test_team_identity import as_user  # noqa: F401 - the fixture

from jupyter_mlops.errors import PermissionDenied
from jupyter_mlops.release import history, rollout
from jupyter_mlops.release.approvals import ApprovalRequired, approvals, decide
from jupyter_mlops.release.registration import register
from jupyter_mlops.store.client import client_for
from jupyter_mlops.store.gateway import gateway_for

POLICY = """\
project: approvals  # its own experiment: the identity test counts its runs by name
release:
  model: appr-model
  approvals:
    champion: {approvers: [alice, bob], not_self: true}
"""


def test_the_approver_is_the_authenticated_user(as_user, auth_server, monkeypatch):  # noqa: F811
    df = make_data()
    alice = as_user("alice")  # creates the model: its MANAGE holder
    (alice.root / "mlops.yaml").write_text(POLICY)
    run_id, _ = log_model_run(alice, fit_model(df), df, name="by-alice")
    register(gateway_for(alice), run_id, "appr-model")
    client_for(alice).set_model_version_tag("appr-model", "1", "mlops.gates", "passed")
    with pytest.raises(ApprovalRequired, match="request-approval appr-model 1"):
        rollout.promote(gateway_for(alice), "appr-model", 1, "champion")

    # alice registered it; a label saying bob does not change who the server says she is
    monkeypatch.setenv("MLOPS_ACTOR", "bob")
    with pytest.raises(PermissionDenied, match="alice registered appr-model v1"):
        decide(gateway_for(alice), "appr-model", 1, "approve")
    monkeypatch.delenv("MLOPS_ACTOR")

    bob = as_user("bob")  # an approver by the policy, but READ on the model
    with pytest.raises(PermissionDenied, match="needs MANAGE permission"):
        decide(gateway_for(bob), "appr-model", 1, "approve", comment="looks right")
    team_server.auth_request(
        auth_server.url,
        "/api/3.0/mlflow/users/permissions/grant",
        {"username": "bob", "resource_type": "registered_model", "resource_id": "appr-model"}
        | {"permission": "MANAGE"},
    )
    approved = decide(gateway_for(bob), "appr-model", 1, "approve", comment="looks right")
    assert (approved.state, approved.decided_by) == ("approved", "bob")
    event = history.events(gateway_for(bob), "appr-model")[-1]
    assert (event.action, event.actor, event.reason) == ("approve", "bob", "looks right")
    assert rollout.promote(gateway_for(bob), "appr-model", 1, "champion").aliases["champion"] == "1"
    assert [a.decided_by for a in approvals(gateway_for(bob), "appr-model")] == ["bob"]
