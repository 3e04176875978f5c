"""The loop over REST, for the sidebar's Loop view.

``GET loop``: the leader, the triggers, the cycle under way and the recent ones, and the approvals
waiting with what an approver decides on (the version's gates and metrics beside the
champion's). ``POST loop/firings`` {trigger}: a cycle asked of the leading loop, which takes it
at its next round (a 409 when no loop process leads). Decisions go through
``server/approvals.py``.
"""

from __future__ import annotations

from typing import cast

import tornado.web
from jupyter_server.auth.decorator import authorized

from ..errors import Conflict
from ..loop.cycle import Cycle
from ..loop.memory import request_firing
from ..loop.service import manual_firing
from ..loop.spec import load_loop_spec
from ..loop.status import loop_status
from ..release.aliases.lease import LeaseValue
from ..release.approvals import Approval
from ..release.policy import load_policy
from ..store.gateway import Gateway
from ..tags import LOOP_LEADER_TAG
from . import contract, queries
from .approvals import approval_answer
from .base import MlopsHandler
from .loop_host import hosted_loop


def _cycle(cycle: Cycle) -> contract.LoopCycle:
    return cast(contract.LoopCycle, cycle.to_dict())


def _pending(gw: Gateway, approval: Approval) -> contract.PendingApproval:
    """What an approver decides on: the version's gates and metrics beside the champion's."""
    detail = queries.version(gw, approval.model, approval.version)
    rule = load_policy(gw.ws).approval_rule(approval.alias)
    report = detail["champion"] or {}
    metrics: dict[str, float] = {}
    for name, text in detail["metrics"].items():
        try:
            metrics[name] = float(text)
        except ValueError:
            continue
    return {
        **approval_answer(approval),
        "registered_by": detail["registered_by"],
        "gate_results": detail["gate_results"],
        "metrics": metrics,
        "champion": report if report.get("version") else None,
        "approvers": list(rule.approvers) if rule else [],
        "not_self": bool(rule and rule.not_self),
    }


def loop_state(gw: Gateway) -> contract.LoopState:
    status = loop_status(gw)
    data = status.to_dict()
    return {
        "model": status.model,
        "poll": status.poll,
        "leader": status.leader,
        "leader_until": status.leader_until,
        "hosted": hosted_loop() is not None,
        "triggers": cast(list[contract.LoopTrigger], data["triggers"]),
        "active": _cycle(status.active) if status.active else None,
        "cycles": [_cycle(c) for c in status.cycles],
        "pending": [_pending(gw, a) for a in status.pending],
    }


def ask_for_cycle(gw: Gateway, trigger: str | None, actor: str | None) -> contract.FiringRequested:
    spec = load_loop_spec(gw.ws)
    who = gw.actor(actor)
    firing = manual_firing(spec, trigger, who)
    model = spec.model or ""
    tags = dict(gw.client.get_registered_model(model).tags) if model else {}
    lease = LeaseValue.parse(tags.get(LOOP_LEADER_TAG))
    if lease.holder is None or lease.free(firing.at):
        raise Conflict(
            f"no loop process leads the loop of {model or 'this project'}",
            hint="start one with `jupyter-mlops loop serve`, or run a cycle with "
            "`jupyter-mlops loop run`",
        )
    request_firing(gw, model, firing.trigger, who)
    return {"model": model, "trigger": firing.trigger, "leader": lease.who}


class LoopHandler(MlopsHandler):
    auth_resource = "jupyter_mlops:loop"

    @tornado.web.authenticated
    @authorized
    async def get(self) -> None:
        self.reply(await self.read(loop_state, self.service.gateway))


class LoopFiringsHandler(MlopsHandler):
    auth_resource = "jupyter_mlops:loop"

    @tornado.web.authenticated
    @authorized
    async def post(self) -> None:
        self.require_execute()  # a cycle runs the pipeline's notebooks
        body = self.json_body()
        trigger = self.text_field(body, "trigger", limit=200)
        gw = self.service.gateway
        self.reply(await self.read(ask_for_cycle, gw, trigger, self.actor), status=202)


__all__ = ["LoopFiringsHandler", "LoopHandler"]
