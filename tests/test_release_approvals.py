"""Approvals and protected aliases: ``release.approvals`` in mlops.yaml, a promotion refused
without an approval (in Python, on the command line and over REST), who may approve, and the
audit trail that records the approver."""

from __future__ import annotations

import textwrap

import pytest
from release_support import registered
from server_support import api, jp_root_dir, jp_server_config, promote_over_rest

from jupyter_mlops.cli import main
from jupyter_mlops.errors import ConfigError, PermissionDenied
from jupyter_mlops.release import approvals, history
from jupyter_mlops.release.approvals import ApprovalRequired
from jupyter_mlops.release.policy import load_policy
from jupyter_mlops.release.rollout import promote, state
from jupyter_mlops.store.gateway import gateway_for

__all__ = ["jp_root_dir", "jp_server_config"]

PROTECTED = """\
project: approvals-test
release:
  model: churn
  approvals:
    champion: {approvers: [alice, bob], not_self: true}
"""


@pytest.fixture
def protected(workspace, monkeypatch):
    """Two versions of churn registered by alice, gates passed; champion needs alice or bob,
    and not the one who registered the version."""
    (workspace.root / "mlops.yaml").write_text(PROTECTED)
    monkeypatch.setenv("MLOPS_ACTOR", "alice")
    registered(workspace, "churn", ("good", "good"))
    return workspace


@pytest.mark.parametrize(
    ("approvals_yaml", "message"),
    [
        ("{champoin: {approvers: [a]}}", "unknown alias (did you mean 'champion'?)"),
        ("{champion: {aprovers: [a]}}", "unknown key (did you mean 'approvers'?)"),
        ("{champion: {approvers: [1]}}", "must be a list of user names"),
        ("{champion: {not_self: yes please}}", "must be true or false"),
    ],
)
def test_mistakes_in_the_approvals_name_the_key_and_line(tmp_path, approvals_yaml, message):
    from jupyter_mlops.workspace import Workspace

    (tmp_path / "mlops.yaml").write_text(
        textwrap.dedent(f"""\
        release:
          model: churn
          approvals: {approvals_yaml}
        """)
    )
    with pytest.raises(ConfigError) as err:
        load_policy(Workspace(tmp_path))
    assert message in str(err.value) and err.value.line == 3, str(err.value)


def test_a_protected_alias_is_refused_without_an_approval(protected, monkeypatch, capsys):
    ws = protected
    with pytest.raises(ApprovalRequired) as refused:
        promote(gateway_for(ws), "churn", 1, "champion", reason="first release")
    assert "churn v1 needs an approval to become champion" in refused.value.message
    assert "`jupyter-mlops request-approval churn 1` (approvers: alice, bob)" in (
        refused.value.message
    )
    with pytest.raises(ApprovalRequired):  # --force overrides gates, never an approval
        promote(gateway_for(ws), "churn", 1, "champion", force=True, reason="in a hurry")
    assert "champion" not in state(gateway_for(ws), "churn").aliases
    promote(gateway_for(ws), "churn", 1, "staging")  # an unprotected alias moves as before

    # the command line: one line, exit code 4, nothing moved
    capsys.readouterr()
    assert main(["promote", "churn", "1", "--to", "champion"]) == 4
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "request-approval churn 1" in err[0], err

    # asked by alice; alice registered it, mallory is no approver: both refused
    assert main(["request-approval", "churn", "1", "--comment", "ready"]) == 0
    for who, words in (("alice", "registered churn v1"), ("mallory", "may not approve")):
        monkeypatch.setenv("MLOPS_ACTOR", who)
        with pytest.raises(PermissionDenied, match=words):
            approvals.decide(gateway_for(ws), "churn", 1, "approve")
    monkeypatch.setenv("MLOPS_ACTOR", "bob")
    assert main(["approve", "churn", "1", "--comment", "numbers look right"]) == 0
    promote(gateway_for(ws), "churn", 1, "champion", reason="approved")
    assert state(gateway_for(ws), "churn").aliases["champion"] == "1"

    trail = [
        (e.action, e.actor, e.version, e.reason) for e in history.events(gateway_for(ws), "churn")
    ]
    assert ("request", "alice", "1", "ready") in trail
    assert ("approve", "bob", "1", "numbers look right") in trail
    assert trail[-1][:3] == ("promote", "bob", "1")

    # a rejection is named in the refusal
    approvals.decide(gateway_for(ws), "churn", 2, "reject", comment="recall too low")
    with pytest.raises(ApprovalRequired, match="bob rejected it \\(recall too low\\)"):
        promote(gateway_for(ws), "churn", 2, "champion")
    listed = approvals.approvals(gateway_for(ws), "churn")
    assert [(a.version, a.state, a.decided_by) for a in listed] == [
        ("2", "rejected", "bob"),
        ("1", "approved", "bob"),
    ]


async def test_approvals_over_rest(jp_fetch, protected, monkeypatch):
    refused, body = await promote_over_rest(
        jp_fetch, "churn", "champion", {"version": "2", "reason": "go"}
    )
    assert refused == 409 and "request-approval churn 2" in body["error"], body

    path = ("models", "churn", "versions", "2", "approvals", "champion")
    code, asked = await api(jp_fetch, *path, method="PUT", payload={"decision": "request"})
    assert code == 200 and asked["state"] == "requested" and asked["requested_by"] == "alice"
    code, body = await api(jp_fetch, *path, method="PUT", payload={"decision": "maybe"})
    assert code == 400 and "decision must be one of" in body["error"]
    code, body = await api(jp_fetch, *path, method="PUT", payload={"decision": "approve"})
    assert code == 403 and "registered churn v2" in body["error"]  # alice, not_self

    monkeypatch.setenv("MLOPS_ACTOR", "bob")
    code, approved = await api(
        jp_fetch, *path, method="PUT", payload={"decision": "approve", "comment": "ship it"}
    )
    assert code == 200 and approved["state"] == "approved" and approved["decided_by"] == "bob"
    code, listed = await api(jp_fetch, "models", "churn", "approvals")
    assert code == 200 and [a["state"] for a in listed["approvals"]] == ["approved"]
    code, moved = await promote_over_rest(
        jp_fetch, "churn", "champion", {"version": "2", "reason": "approved by bob"}
    )
    assert code == 200 and moved["aliases"]["champion"] == "2"
