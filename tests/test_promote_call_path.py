"""A promote through the REST API reaches the registry by a short path, with one client.

Every registry write a promote makes (the lease, the pending and completed history entry, the
alias) is recorded with the project's modules on the calling thread's stack, from the handler's
call down to MLflow's client. The checks before the lease (policy, permission, signature,
approval) and the announcement after the writes are calls of their own that have returned by the
time a write happens, so they are not on these stacks.
"""

from __future__ import annotations

import sys
from typing import Any

import pytest
from release_support import registered
from server_support import jp_root_dir, jp_server_config, promote_over_rest

__all__ = ["jp_root_dir", "jp_server_config"]

REGISTRY_WRITES = (
    "set_registered_model_alias",
    "delete_registered_model_alias",
    "set_registered_model_tag",
    "delete_registered_model_tag",
    "set_model_version_tag",
    "delete_model_version_tag",
)
MAX_MODULES = 6


def _our_modules(frame: Any) -> list[str]:
    """The project's modules on the stack below ``frame``, outermost first, repeats folded."""
    found: list[str] = []
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if module.startswith("jupyter_mlops") and (not found or found[-1] != module):
            found.append(module)
        frame = frame.f_back
    return found[::-1]


@pytest.fixture
def recorded(monkeypatch):
    """Each registry write as (method, first argument after the model, client, modules), and the
    number of client lookups the gateway made."""
    from mlflow import MlflowClient

    from jupyter_mlops.store import gateway

    writes: list[tuple[str, str, int, list[str]]] = []
    lookups: list[str] = []
    for name in REGISTRY_WRITES:
        original = getattr(MlflowClient, name)

        def write(self, *args, _original=original, _name=name, **kwargs):
            key = str(args[1]) if len(args) > 1 else ""
            writes.append((_name, key, id(self), _our_modules(sys._getframe(1))))
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(MlflowClient, name, write)
    looked_up = gateway.client_for

    def client_for(ws):
        lookups.append(str(ws.root))
        return looked_up(ws)

    monkeypatch.setattr(gateway, "client_for", client_for)
    return writes, lookups


async def test_a_promote_reaches_the_registry_through_six_modules_and_one_client(
    jp_fetch, workspace, recorded
):
    registered(workspace)
    writes, lookups = recorded
    writes.clear()  # registering wrote too
    lookups.clear()
    code, body = await promote_over_rest(
        jp_fetch, "churn", "champion", {"version": "1", "reason": "first release"}
    )
    assert code == 200 and body["aliases"]["champion"] == "1", body

    # the writes a promote makes, in order: lease, pending entry, alias, completed entry, release
    assert [(name, key.split(".")[1] if "." in key else key) for name, key, *_ in writes] == [
        ("set_registered_model_tag", "lease"),
        ("set_registered_model_tag", "history"),
        ("set_registered_model_alias", "champion"),
        ("set_registered_model_tag", "history"),
        ("set_registered_model_tag", "lease"),
    ], writes
    modules = {module for *_, stack in writes for module in stack}
    assert "jupyter_mlops.server.models" in modules, modules
    assert len(modules) <= MAX_MODULES, sorted(modules)
    # one client passed down: every write on the same client, and no helper looked one up again
    assert len({client for _, _, client, _ in writes}) == 1
    assert len(lookups) <= 1, lookups
