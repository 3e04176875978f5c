"""With MLflow's auth app on, each release action checks the user's permission on the registered
model first: EDIT to register or validate, MANAGE to move a protected alias or roll back. A
refusal is one line naming the missing permission, and it changes nothing."""

from __future__ import annotations

import pytest
import team_server
from release_support import fit_model, log_model_run, make_data
from test_team_identity import as_user  # noqa: F401 - the fixture

from jupyter_mlops.cli import main
from jupyter_mlops.errors import PermissionDenied
from jupyter_mlops.release import history, rollout
from jupyter_mlops.release.permissions import require
from jupyter_mlops.release.registration import register
from jupyter_mlops.release.validation import validate
from jupyter_mlops.store.client import client_for
from jupyter_mlops.store.gateway import gateway_for


def _grant(server, user: str, model: str, permission: str) -> None:
    team_server.auth_request(
        server.url,
        "/api/3.0/mlflow/users/permissions/grant",
        {"username": user, "resource_type": "registered_model", "resource_id": model}
        | {"permission": permission},
    )


def _versions(ws, model: str) -> list[str]:
    return sorted(str(v.version) for v in client_for(ws).search_model_versions(f"name = '{model}'"))


def test_release_actions_need_edit_or_manage(as_user, auth_server, capsys):  # noqa: F811
    df = make_data()
    alice = as_user("alice")  # creates the model: MLflow makes her its MANAGE holder
    run_id, _ = log_model_run(alice, fit_model(df), df, name="by-alice")
    register(gateway_for(alice), run_id, "perm-model")
    client_for(alice).set_model_version_tag("perm-model", "1", "mlops.gates", "passed")
    rollout.promote(gateway_for(alice), "perm-model", 1, "champion")
    require(gateway_for(alice), "perm-model", "MANAGE", "anything")

    bob = as_user("bob")  # the server's default: READ
    with pytest.raises(
        PermissionDenied, match="bob may not register a version of perm-model: it needs EDIT"
    ):
        register(gateway_for(bob), run_id, "perm-model")
    with pytest.raises(PermissionDenied, match="needs EDIT permission"):
        validate(gateway_for(bob), "perm-model", "1")
    assert _versions(bob, "perm-model") == ["1"]

    _grant(auth_server, "bob", "perm-model", "EDIT")
    mv = register(gateway_for(bob), run_id, "perm-model")
    client_for(bob).set_model_version_tag("perm-model", mv.version, "mlops.gates", "passed")
    assert (
        rollout.promote(gateway_for(bob), "perm-model", mv.version, "staging").aliases["staging"]
        == "2"
    )
    trail = len(history.events(gateway_for(bob), "perm-model"))
    with pytest.raises(PermissionDenied, match=r"move perm-model@champion .* needs MANAGE"):
        rollout.promote(gateway_for(bob), "perm-model", mv.version, "champion")
    with pytest.raises(PermissionDenied, match="roll back perm-model: it needs MANAGE"):
        rollout.rollback(gateway_for(bob), "perm-model")
    state = rollout.state(gateway_for(bob), "perm-model")
    assert (
        state.aliases["champion"] == "1"
        and len(history.events(gateway_for(bob), "perm-model")) == trail
    )

    capsys.readouterr()
    code = main(["-C", str(bob.root), "promote", "perm-model", "2", "--to", "champion"])
    err = capsys.readouterr().err.splitlines()
    assert code == PermissionDenied.exit_code
    assert "it needs MANAGE permission on registered model 'perm-model', and bob has EDIT" in err[0]

    alice = as_user("alice")
    assert (
        rollout.promote(gateway_for(alice), "perm-model", 2, "champion").aliases["champion"] == "2"
    )
