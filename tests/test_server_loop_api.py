"""The loop and approvals over REST, each answer checked against the REST contract: the Loop
view's state (leader, triggers, the cycle under way, the approvals waiting with their gates),
a cycle asked of the leading loop, and approval decisions."""

from __future__ import annotations

import test_server_contract as contract_check
from server_support import jp_root_dir, jp_server_config, release_project

from jupyter_mlops.loop.cycle import CycleBook, CyclePlan
from jupyter_mlops.loop.firing import Firing
from jupyter_mlops.loop.service import LoopService
from jupyter_mlops.release.registration import register
from jupyter_mlops.release.validation import validate
from jupyter_mlops.store.gateway import gateway_for
from jupyter_mlops.tags import LOOP_REQUEST_PREFIX

__all__ = ["jp_root_dir", "jp_server_config"]

LOOP = """\
  approvals: {champion: {approvers: [bob]}}
loop:
  triggers:
    nightly: {schedule: "0 3 * * *"}
    fresh: {watch: [data/]}
"""


async def test_loop_and_approval_answers_match(jp_fetch, workspace, monkeypatch):
    check = contract_check.ContractCheck(jp_fetch)
    first, _ = release_project(workspace)
    with (workspace.root / "mlops.yaml").open("a") as fh:
        fh.write(LOOP)
    mv = register(gateway_for(workspace), first, "churn")
    assert validate(gateway_for(workspace), "churn", mv.version, write_card=False).passed

    code, state = await check("GET /loop", "loop")
    assert code == 200 and state["leader"] is None and state["hosted"] is False
    assert [t["name"] for t in state["triggers"]] == ["nightly", "fresh"]
    assert state["triggers"][0]["next_firing"] > 0 and state["cycles"] == []
    code, refused = await check("POST /loop/firings", "loop", "firings", method="POST")
    assert code == 409 and "loop serve" in refused["hint"]

    # approvals: asked for, listed, decided by an approver the policy names
    path = ("models", "churn", "versions", "1", "approvals", "champion")
    route = "PUT /models/{name}/versions/{version}/approvals/{alias}"
    code, asked = await check(route, *path, method="PUT", payload={"decision": "request"})
    assert code == 200 and asked["state"] == "requested"
    code, listed = await check("GET /models/{name}/approvals", "models", "churn", "approvals")
    assert code == 200 and [a["version"] for a in listed["approvals"]] == ["1"]

    # a loop process leads and a cycle waits: both show, with the approval's gate table
    service = LoopService(gateway_for(workspace), say=lambda _: None)
    assert service.lead()
    book = CycleBook(gateway_for(workspace), "churn")
    cycle = book.start(Firing("nightly", "schedule", "schedule 0 3 * * *", 0.0), CyclePlan(), "ops")
    cycle.begin("build").note = "ran train"
    cycle.version, cycle.outcome = "1", "waiting"
    book.save(cycle)
    code, state = await check("GET /loop", "loop")
    assert code == 200 and state["leader"] == service.lease.who
    assert state["active"]["run_id"] == cycle.run_id
    assert state["active"]["stages"][0]["note"] == "ran train"
    pending = state["pending"][0]
    assert pending["approvers"] == ["bob"] and pending["gate_results"]
    assert pending["metrics"]["accuracy"] > 0.6

    code, asked = await check(
        "POST /loop/firings", "loop", "firings", method="POST", payload={"trigger": "fresh"}
    )
    assert code == 202 and asked["trigger"] == "fresh" and asked["leader"] == service.lease.who
    tags = gateway_for(workspace).client.get_registered_model("churn").tags
    assert any(k.startswith(LOOP_REQUEST_PREFIX) for k in tags)
    code, _ = await check("POST /loop/firings", "loop", "firings", method="POST",
                          payload={"trigger": "nope"})  # fmt: skip
    assert code == 400

    monkeypatch.setenv("MLOPS_ACTOR", "bob")
    code, decided = await check(
        route, *path, method="PUT", payload={"decision": "approve", "comment": "fine"}
    )
    assert code == 200 and (decided["state"], decided["decided_by"]) == ("approved", "bob")
    service.release()
    assert check.seen >= {r for r in contract_check.contract.RESPONSES if "loop" in r}
    assert route in check.seen
