"""Approvals over REST: ``GET models/{name}/approvals`` and
``PUT models/{name}/versions/{v}/approvals/{alias}`` {decision: approve|reject|request, comment}.

A decision goes through ``release.approvals``, the function ``jupyter-mlops approve`` calls: it
is recorded with the identity the tracking server authenticates (else the Jupyter user), and
refused for someone the policy does not name or who registered the version (``not_self``).
"""

from __future__ import annotations

from typing import Any, cast

import tornado.web
from jupyter_server.auth.decorator import authorized

from ..errors import InvalidInput
from ..release.approvals import Approval, approvals, decide, request_approval
from ..store.gateway import Gateway
from . import contract
from .base import MlopsHandler

DECISIONS = ("approve", "reject", "request")


def approval_answer(approval: Approval) -> contract.Approval:
    return cast(contract.Approval, approval.to_dict())


def _decide(
    gw: Gateway, name: str, version: str, alias: str, body: dict[str, Any], actor: str | None
) -> contract.Approval:
    decision, comment = body["decision"], body["comment"]
    if decision == "request":
        return approval_answer(
            request_approval(gw, name, version, alias, actor=actor, comment=comment)
        )
    return approval_answer(decide(gw, name, version, decision, alias, actor=actor, comment=comment))


def _listed(gw: Gateway, name: str) -> contract.ApprovalList:
    return {"model": name, "approvals": [approval_answer(a) for a in approvals(gw, name)]}


class ApprovalsHandler(MlopsHandler):
    auth_resource = "jupyter_mlops:models"

    @tornado.web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        self.reply(await self.read(_listed, self.service.gateway, name))


class ApprovalHandler(MlopsHandler):
    auth_resource = "jupyter_mlops:models"

    @tornado.web.authenticated
    @authorized
    async def put(self, name: str, version: str, alias: str) -> None:
        body = self.json_body()
        decision = self.text_field(body, "decision", required=True, limit=20)
        if decision not in DECISIONS:
            raise InvalidInput(
                f"decision must be one of {', '.join(DECISIONS)}, got {decision!r}",
                hint='send {"decision": "approve", "comment": "..."}',
            )
        clean = {"decision": decision, "comment": self.text_field(body, "comment")}
        gw = self.service.gateway
        self.reply(await self.read(_decide, gw, name, version, alias, clean, self.actor))
