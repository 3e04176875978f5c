"""The loop hosted by the Jupyter server for a single user (`--MlopsLoop.serve=True`): it leads,
the Loop view says so, and a cycle asked through REST reaches it."""

from __future__ import annotations

import pytest
from server_support import RecordingAuthorizer, api, jp_root_dir, release_project
from waiting import async_wait_until

from jupyter_mlops.loop.cycle import CycleBook
from jupyter_mlops.server.loop_host import hosted_loop, stop_hosted_loop
from jupyter_mlops.store.gateway import gateway_for

__all__ = ["jp_root_dir"]


@pytest.fixture
def jp_server_config(workspace, monkeypatch):
    """The extension with the loop hosted, polling every second, on a project with a model (the
    loop reads it when the server starts); stopped after the test."""
    monkeypatch.setenv("MLOPS_LEASE_SETTLE", "0.2")
    release_project(workspace)  # release.model churn; no steps: a cycle fails, saying why
    RecordingAuthorizer.deny = set()
    yield {
        "ServerApp": {
            "jpserver_extensions": {"jupyter_mlops": True, "jupyter_server_terminals": False},
            "allow_unauthenticated_access": False,
            "authorizer_class": RecordingAuthorizer,
        },
        "MlopsLoop": {"serve": True, "poll": 1.0},
    }
    stop_hosted_loop()


async def test_the_server_hosts_the_loop_when_asked(jp_fetch, workspace):
    async def led() -> dict | None:
        code, state = await api(jp_fetch, "loop")
        return state if code == 200 and state["leader"] else None

    state = await async_wait_until(led, timeout=60, interval=0.5, message="no leader")
    assert state["hosted"] is True and hosted_loop() is not None
    code, asked = await api(jp_fetch, "loop", "firings", method="POST")
    assert code == 202 and asked["leader"] == state["leader"]

    book = CycleBook(gateway_for(workspace), "churn")

    async def ended():
        cycles = book.recent(1)
        return cycles[0] if cycles and not cycles[0].active else None

    cycle = await async_wait_until(ended, timeout=60, interval=0.5, message="no cycle ended")
    assert cycle.outcome == "failed" and "declares no steps" in cycle.stages[0].note
    stop_hosted_loop()
    code, state = await api(jp_fetch, "loop")
    assert code == 200 and state["hosted"] is False and state["leader"] is None
