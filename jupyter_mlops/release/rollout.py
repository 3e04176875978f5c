"""Staged rollout on aliases: candidate -> staging -> canary (weighted) -> champion, and back.

The rollout state is nothing but registry aliases plus one registered-model tag (the canary's
traffic weight), so ``mlflow ui`` and any MLflow client see exactly what the router serves.
Every change is checked completely before the first alias moves (an invalid request leaves the
aliases as they were), is serialised per model by the release lease kept in the registry itself
(``aliases/lease.py``: across processes, folders and machines), and its audit entry is written ahead of
the first alias write (``aliases/change.py``).
Alias writes are ordered so that a router polling in between never sees a missing champion.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import Conflict, GateFailed, InvalidInput, NotFound
from ..tags import CANARY_SHADOW_TAG, CANARY_WEIGHT_TAG, ROLLED_BACK_TAG
from .aliases.change import PlannedChange, change
from .approvals import require_approval
from .permissions import alias_permission, require
from .policy import load_policy
from .registered_model import T_GATES, check_name
from .signing import check_version

if TYPE_CHECKING:
    from ..store.gateway import Gateway

WEIGHT_TAG = CANARY_WEIGHT_TAG
SHADOW_TAG = CANARY_SHADOW_TAG
TARGETS = ("staging", "canary", "champion")


@dataclass(frozen=True)
class RolloutState:
    model: str
    aliases: dict[str, str]
    canary_weight: float
    shadow: bool

    def describe(self) -> str:
        parts = [
            f"{a}=v{self.aliases[a]}"
            for a in ("candidate", "staging", "canary", "champion", "previous")
            if a in self.aliases
        ]
        if "canary" in self.aliases:
            parts.append(
                f"canary_weight={self.canary_weight:g}%" + (" (shadow)" if self.shadow else "")
            )
        return f"{self.model}: " + (", ".join(parts) or "no aliases")


def state(gw: Gateway, model: str) -> RolloutState:
    """The model's aliases and canary settings, as the registry holds them now."""
    return _state_of(model, gw.registered_model(check_name(model)))


def _state_of(model: str, rm: Any) -> RolloutState:
    try:
        weight = float(rm.tags.get(WEIGHT_TAG, 0) or 0)
    except ValueError:
        weight = 0.0
    return RolloutState(
        model, {k: str(v) for k, v in rm.aliases.items()}, weight, rm.tags.get(SHADOW_TAG) == "true"
    )


def _check_weight(weight: Any) -> float:
    if isinstance(weight, bool):
        raise InvalidInput(f"weight must be a number between 0 and 100, got {weight!r}")
    try:
        w = float(weight)
    except (TypeError, ValueError):
        raise InvalidInput(f"weight must be a number between 0 and 100, got {weight!r}") from None
    if not 0 <= w <= 100 or w != w:
        raise InvalidInput(
            f"weight must be between 0 and 100, got {weight!r}",
            hint="it is a percentage of traffic",
        )
    return w


def promote(
    gw: Gateway,
    model: str,
    version: str | int,
    to: str,
    weight: float | None = None,
    force: bool = False,
    reason: str | None = None,
    actor: str | None = None,
    shadow: bool | None = None,
) -> RolloutState:
    """Move ``version`` to alias ``to``; refuses versions whose gates did not pass unless forced.

    The gate verdict and the approval (for an alias ``release.approvals`` protects) are read
    under the release lease, so a verdict or decision changed meanwhile counts. ``force``
    overrides failed gates, never a missing approval."""
    check_name(model)
    if to not in TARGETS:
        raise InvalidInput(f"cannot promote to {to!r}", hint=f"one of: {', '.join(TARGETS)}")
    if weight is not None and to != "canary":
        raise InvalidInput("--weight applies to --to canary only")
    w = _check_weight(weight) if weight is not None else None
    if force and not (reason and reason.strip()):
        raise InvalidInput(
            "--force needs --reason TEXT", hint="say why the gates are overridden; it is recorded"
        )
    policy = load_policy(gw.ws)  # read once: the approval and the canary's default weight
    require(gw, model, alias_permission(to), f"move {model}@{to} to version {version}")
    check_version(gw, model, version)  # NotFound, or a changed file, before taking the lease
    default_weight = policy.canary_weight if to == "canary" and w is None else None

    def build(rm: Any) -> PlannedChange:
        mv = gw.model_version(model, version)
        verdict = mv.tags.get(T_GATES, "pending")
        if verdict != "passed" and not force:
            raise GateFailed(
                f"{model} v{mv.version} cannot go to {to}: its gates are {verdict}",
                hint=f"run `jupyter-mlops validate {model} {mv.version}`, "
                "or override with --force --reason TEXT",
            )
        require_approval(policy, model, mv, to)
        details: dict[str, Any] = {"to": to, "forced": force or None, "gates": verdict}
        return _plan_promotion(
            model, _state_of(model, rm), str(mv.version), to, details, w, default_weight, shadow
        )

    change(gw, model, build, actor=actor, reason=reason)
    return state(gw, model)


def _plan_promotion(
    model: str,
    st: RolloutState,
    v: str,
    to: str,
    details: dict[str, Any],
    w: float | None,
    default_weight: float | None,
    shadow: bool | None,
) -> PlannedChange:
    if to == "staging":
        details["from_version"] = st.aliases.get("staging")
        return PlannedChange("promote", v, [["alias", "staging", v]], details)
    if to == "canary":
        if st.aliases.get("champion") == v:
            raise Conflict(
                f"{model} v{v} is already the champion",
                hint="a canary must differ from the champion",
            )
        if "champion" not in st.aliases:
            raise Conflict(
                f"{model} has no champion to compare a canary with",
                hint="promote a first version with --to champion",
            )
        same = st.aliases.get("canary") == v
        if w is None:
            w = st.canary_weight if same else float(default_weight or 0)
        action = "weight" if same else "promote"
        details.update(weight=w, from_weight=st.canary_weight if same else None, shadow=shadow)
        # weight first: a router that sees the new canary alias already sees its weight
        plan = [["tag", WEIGHT_TAG, f"{w:g}"]]
        if shadow is not None:
            plan.append(["tag", SHADOW_TAG, "true" if shadow else "false"])
        plan.append(["alias", "canary", v])
        return PlannedChange(action, v, plan, details)
    old = st.aliases.get("champion")
    if old == v:
        raise Conflict(f"{model} v{v} is already the champion")
    details["previous"] = old
    plan = [["alias", "previous", old]] if old is not None else []
    plan.append(["alias", "champion", v])
    if st.aliases.get("canary") == v:
        plan += [["unalias", "canary"], ["tag", WEIGHT_TAG, "0"], ["tag", SHADOW_TAG, "false"]]
    return PlannedChange("promote", v, plan, details)


def set_canary_weight(
    gw: Gateway, model: str, weight: float, *, reason: str | None = None, actor: str | None = None
) -> RolloutState:
    """Change the canary's share of traffic (the version keeps its alias)."""
    w = _check_weight(weight)

    def build(rm: Any) -> PlannedChange:
        st = _state_of(model, rm)
        if "canary" not in st.aliases:
            raise NotFound(
                f"{model} has no canary", hint="promote a version with --to canary first"
            )
        details = {"weight": w, "from_weight": st.canary_weight}
        return PlannedChange(
            "weight", st.aliases["canary"], [["tag", WEIGHT_TAG, f"{w:g}"]], details
        )

    gw.registered_model(check_name(model))
    require(gw, model, "MANAGE", f"change the canary weight of {model}")
    change(gw, model, build, actor=actor, reason=reason)
    return state(gw, model)


def demote_canary(
    gw: Gateway,
    model: str,
    reason: str | None = None,
    actor: str | None = None,
    *,
    only_version: str | None = None,
    only_against: str | None = None,
) -> RolloutState:
    """Take the canary out of traffic (the monitoring canary guard calls this).

    With ``only_version`` (and ``only_against``, the champion it was compared with) the canary is
    demoted only if both are unchanged, checked under the lease: the guard never demotes a canary
    other than the one it judged, nor on a comparison with a champion that has since changed."""
    gw.registered_model(check_name(model))
    require(gw, model, "MANAGE", f"roll back the canary of {model}")

    def build(rm: Any) -> PlannedChange:
        st = _state_of(model, rm)
        v = st.aliases.get("canary")
        if v is None:
            raise NotFound(f"{model} has no canary to roll back")
        if only_version is not None and v != str(only_version):
            raise Conflict(
                f"{model}'s canary is now v{v}, not v{only_version}", hint="nothing was changed"
            )
        champion = st.aliases.get("champion")
        if only_against is not None and champion != str(only_against):
            raise Conflict(
                f"{model}'s champion is now v{champion}, not v{only_against}",
                hint="nothing was changed",
            )
        plan = [
            ["tag", WEIGHT_TAG, "0"],
            ["tag", SHADOW_TAG, "false"],
            ["unalias", "canary"],
            ["vtag", v, ROLLED_BACK_TAG, "true"],
        ]
        return PlannedChange("rollback", v, plan, {"alias": "canary", "weight": st.canary_weight})

    change(gw, model, build, actor=actor, reason=reason)
    return state(gw, model)


def rollback(
    gw: Gateway,
    model: str,
    reason: str | None = None,
    actor: str | None = None,
    target: str = "auto",
) -> RolloutState:
    """Undo the last step: drop the canary if there is one, else restore ``previous`` as champion."""
    if target not in ("auto", "canary", "champion"):
        raise InvalidInput(f"cannot roll back {target!r}", hint="auto, canary or champion")
    require(gw, model, "MANAGE", f"roll back {model}")
    st = state(gw, model)
    if target == "canary" or (target == "auto" and "canary" in st.aliases):
        return demote_canary(gw, model, reason=reason, actor=actor)

    def build(rm: Any) -> PlannedChange:
        now = _state_of(model, rm)
        prev, bad = now.aliases.get("previous"), now.aliases.get("champion")
        if prev is None:
            raise NotFound(
                f"{model} has no previous champion to roll back to",
                hint=f"see `jupyter-mlops history {model}`",
            )
        # champion first, so there is never a moment without one
        plan = [["alias", "champion", prev], ["unalias", "previous"]]
        if bad is not None:
            plan.append(["vtag", bad, ROLLED_BACK_TAG, "true"])
        return PlannedChange("rollback", prev, plan, {"alias": "champion", "from_version": bad})

    change(gw, model, build, actor=actor, reason=reason)
    return state(gw, model)
