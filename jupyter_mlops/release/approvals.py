"""Approvals: an alias the policy protects moves only once a named person approved the version.

``release.approvals`` in mlops.yaml names the protected aliases (typically ``champion``), who may
approve (``approvers``; anyone when empty) and whether the person who registered the version may
approve it (``not_self: true`` says no). A version's approval for an alias is one model-version
tag, ``mlops.approval.<alias>``, holding the request and the decision as JSON, so any MLflow
client sees it and it travels with the version; each request and decision is also an entry of
the release history, with the approver's authenticated identity.

``promote`` calls ``require_approval`` under the release lease: a version without an approval
is refused with one line saying how to ask for one, and ``--force`` does not override it (it
overrides gates only). Rolling back to the previous champion needs no approval.

A loop cycle asks for the approval and waits; the decision comes from ``jupyter-mlops
approve|reject``, ``%mlops approve|reject``, the REST route or the sidebar's Loop view.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal

from ..errors import Conflict, InvalidInput, PermissionDenied
from ..journal.events import APPROVAL_DECIDED, APPROVAL_REQUESTED, emit
from ..store.identity import authenticated_user
from ..tags import APPROVAL_PREFIX, REGISTERED_BY_TAG, approval_tag
from . import history
from .permissions import require
from .policy import ApprovalRule, ReleasePolicy, load_policy
from .registered_model import check_name
from .registration import get_version

if TYPE_CHECKING:
    from ..store.gateway import Gateway

State = Literal["requested", "approved", "rejected"]
Decision = Literal["approve", "reject"]
DECIDED: dict[str, State] = {"approve": "approved", "reject": "rejected"}
MAX_COMMENT = 2000


class ApprovalRequired(Conflict):
    """A protected alias was asked to move to a version nobody approved for it."""


@dataclass
class Approval:
    """The approval of ``model`` v``version`` for ``alias``: asked, then decided."""

    model: str
    version: str
    alias: str
    state: State
    requested_by: str | None = None
    requested_at: float | None = None
    request_comment: str | None = None
    decided_by: str | None = None
    decided_at: float | None = None
    comment: str | None = None
    cycle: str | None = None  # the loop cycle run waiting for it, if a cycle asked

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        head = f"{self.model} v{self.version} -> {self.alias}: {self.state}"
        if self.state == "requested":
            return head + (f" by {self.requested_by}" if self.requested_by else "")
        why = f" ({self.comment})" if self.comment else ""
        return head + f" by {self.decided_by}{why}"


def approval_of(mv: Any, alias: str) -> Approval | None:
    """The approval recorded on a model version for ``alias`` (None if never asked)."""
    raw = (mv.tags or {}).get(approval_tag(alias))
    return _parse(mv.name, str(mv.version), alias, raw)


def _parse(model: str, version: str, alias: str, raw: str | None) -> Approval | None:
    if not raw:
        return None
    try:
        data = json.loads(raw)
        fields = {k: data.get(k) for k in Approval.__dataclass_fields__}
    except (ValueError, AttributeError):
        return None  # a hand-edited tag is no approval
    if fields.get("state") not in ("requested", "approved", "rejected"):
        return None
    fields.update(model=model, version=version, alias=alias)
    return Approval(**fields)


def _write(gw: Gateway, approval: Approval) -> None:
    payload = {k: v for k, v in approval.to_dict().items() if k not in ("model", "version")}
    payload.pop("alias")
    gw.client.set_model_version_tag(
        approval.model,
        approval.version,
        approval_tag(approval.alias),
        json.dumps(payload, sort_keys=True),
    )


def _rule(policy: ReleasePolicy, model: str, alias: str) -> ApprovalRule:
    rule = policy.approval_rule(alias)
    if rule is None:
        raise InvalidInput(
            f"{model}'s {alias} needs no approval: release.approvals in mlops.yaml does not "
            f"protect it",
            hint=f"promote it directly: `jupyter-mlops promote {model} VERSION --to {alias}`",
        )
    return rule


def _comment(text: str | None) -> str | None:
    text = (text or "").strip()
    return text[:MAX_COMMENT] or None


def request_approval(
    gw: Gateway,
    model: str,
    version: str | int,
    alias: str = "champion",
    *,
    actor: str | None = None,
    comment: str | None = None,
    cycle: str | None = None,
    policy: ReleasePolicy | None = None,
) -> Approval:
    """Ask for an approval of ``version`` for ``alias`` (an approved one is left as it is)."""
    check_name(model)
    rule = _rule(policy or load_policy(gw.ws), model, alias)
    mv = get_version(gw, model, version)
    current = approval_of(mv, alias)
    if current is not None and current.state == "approved":
        return current
    if current is not None and current.state == "requested" and cycle in (None, current.cycle):
        return current  # asked already: the request stands, nothing is written twice
    who = gw.actor(actor)
    approval = Approval(
        model,
        str(mv.version),
        alias,
        "requested",
        requested_by=who,
        requested_at=time.time(),
        request_comment=_comment(comment),
        cycle=cycle,
    )
    _write(gw, approval)
    history.record(
        gw,
        model,
        "request",
        version=approval.version,
        actor=who,
        reason=approval.request_comment,
        alias=alias,
        approvers=", ".join(rule.approvers) or None,
        cycle=cycle,
    )
    announce_requested(gw, approval, rule)
    return approval


def approver_identity(gw: Gateway, actor: str | None) -> str:
    """Who decides: the user the tracking server authenticates (a label cannot override it),
    else the signed-in Jupyter user, else ``MLOPS_ACTOR`` or the login name."""
    return authenticated_user(gw.tracking_uri) or gw.actor(actor)


def check_permission(gw: Gateway, model: str, approver: str, decision: Decision) -> None:
    """Deciding needs MANAGE on the registered model on a team server with MLflow's auth app
    (``permissions.require``; every action is allowed on the embedded store), on top of the
    policy's ``approvers``."""
    require(gw, model, "MANAGE", f"{decision} a version of {model}")


def decide(
    gw: Gateway,
    model: str,
    version: str | int,
    decision: Decision,
    alias: str = "champion",
    *,
    actor: str | None = None,
    comment: str | None = None,
    policy: ReleasePolicy | None = None,
) -> Approval:
    """Approve or reject ``version`` for ``alias``, as the authenticated user."""
    if decision not in DECIDED:
        raise InvalidInput(f"unknown decision {decision!r}", hint="approve or reject")
    check_name(model)
    rule = _rule(policy or load_policy(gw.ws), model, alias)
    mv = get_version(gw, model, version)
    approver = approver_identity(gw, actor)
    if rule.approvers and approver not in rule.approvers:
        raise PermissionDenied(
            f"{approver} may not {decision} {model} v{mv.version} for {alias}",
            hint=f"release.approvals.{alias}.approvers: {', '.join(rule.approvers)}",
        )
    registrant = (mv.tags or {}).get(REGISTERED_BY_TAG)
    if rule.not_self and registrant and registrant == approver:
        raise PermissionDenied(
            f"{approver} registered {model} v{mv.version} and may not {decision} it",
            hint=f"release.approvals.{alias}.not_self is true: another approver must decide",
        )
    check_permission(gw, model, approver, decision)
    current = approval_of(mv, alias)
    approval = Approval(
        model,
        str(mv.version),
        alias,
        DECIDED[decision],
        requested_by=current.requested_by if current else None,
        requested_at=current.requested_at if current else None,
        request_comment=current.request_comment if current else None,
        decided_by=approver,
        decided_at=time.time(),
        comment=_comment(comment),
        cycle=current.cycle if current else None,
    )
    _write(gw, approval)
    jupyter_user = actor if actor and actor != approver else None
    history.record(
        gw,
        model,
        decision,
        version=approval.version,
        actor=approver,
        reason=approval.comment,
        alias=alias,
        jupyter_user=jupyter_user,
        cycle=approval.cycle,
    )
    announce_decided(gw, approval)
    return approval


def require_approval(policy: ReleasePolicy, model: str, mv: Any, alias: str) -> None:
    """Raise ``ApprovalRequired`` unless ``alias`` is unprotected or ``mv`` is approved for it."""
    rule = policy.approval_rule(alias)
    if rule is None:
        return
    approval = approval_of(mv, alias)
    if approval is not None and approval.state == "approved":
        return
    v = str(mv.version)
    who = f" (approvers: {', '.join(rule.approvers)})" if rule.approvers else ""
    if approval is not None and approval.state == "rejected":
        raise ApprovalRequired(
            f"{model} v{v} cannot become {alias}: {approval.decided_by} rejected it"
            + (f" ({approval.comment})" if approval.comment else "")
            + f"; ask again with `jupyter-mlops request-approval {model} {v}`{who}"
        )
    asked = " (asked, not decided yet)" if approval is not None else ""
    raise ApprovalRequired(
        f"{model} v{v} needs an approval to become {alias}{asked}: request one with "
        f"`jupyter-mlops request-approval {model} {v}`{who}"
    )


def approvals(gw: Gateway, model: str, *, state: State | None = None) -> list[Approval]:
    """Every approval recorded on ``model``'s versions (newest version first), or those in
    ``state``."""
    check_name(model)
    found = gw.client.search_model_versions(f"name = '{model}'", max_results=1000)
    out = []
    for mv in found:
        for key, raw in (mv.tags or {}).items():
            if key.startswith(APPROVAL_PREFIX):
                item = _parse(model, str(mv.version), key[len(APPROVAL_PREFIX) :], raw)
                if item is not None and (state is None or item.state == state):
                    out.append(item)
    return sorted(out, key=lambda a: (-int(a.version), a.alias))


def announce_requested(gw: Gateway, approval: Approval, rule: ApprovalRule) -> None:
    """The moment an approval is asked for: the ``approval_requested`` event goes out."""
    payload = {**approval.to_dict(), "reason": approval.request_comment}
    key = (approval.version, approval.alias, approval.requested_at)
    emit(
        gw.ws,
        APPROVAL_REQUESTED,
        model=approval.model,
        payload=payload,
        actor=approval.requested_by,
        key=key,
    )


def announce_decided(gw: Gateway, approval: Approval) -> None:
    """The moment an approval is decided: the ``approval_decided`` event goes out (``decision``:
    approved or rejected)."""
    payload = {**approval.to_dict(), "decision": approval.state, "reason": approval.comment}
    key = (approval.version, approval.alias, approval.decided_at)
    emit(
        gw.ws,
        APPROVAL_DECIDED,
        model=approval.model,
        payload=payload,
        actor=approval.decided_by,
        key=key,
    )
