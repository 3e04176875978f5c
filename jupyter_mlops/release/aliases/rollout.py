"""Staged rollout on aliases: candidate -> staging -> canary (weighted) -> champion, and back.

The rollout state is nothing but registry aliases plus one registered-model tag (the canary's
traffic weight), so ``mlflow ui`` and any MLflow client see exactly what the router serves.
Every change is checked completely before the first alias moves (an invalid request leaves the
aliases as they were), is serialised per model by a file lock, and lands in the audit trail.
Alias writes are ordered so that a router polling in between never sees a missing champion.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...errors import Conflict, GateFailed, InvalidInput, NotFound
from ...workspace import Workspace
from .. import history
from ..registry import T_GATES, check_name, get_registered_model, get_version

WEIGHT_TAG = "mlops.canary_weight"
SHADOW_TAG = "mlops.canary_shadow"
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


def state(ws: Workspace, model: str) -> RolloutState:
    rm = get_registered_model(ws, model)
    return _state_of(model, rm)


def _state_of(model: str, rm: Any) -> RolloutState:
    try:
        weight = float(rm.tags.get(WEIGHT_TAG, 0) or 0)
    except ValueError:
        weight = 0.0
    return RolloutState(
        model, {k: str(v) for k, v in rm.aliases.items()}, weight, rm.tags.get(SHADOW_TAG) == "true"
    )


def _lock(ws: Workspace, model: str):
    from ...locks import exclusive

    return exclusive(
        ws.subdir("locks") / f"release-{model}.lock",
        what=f"a release action on {model}",
        timeout=30,
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
    ws: Workspace,
    model: str,
    version: str | int,
    to: str,
    weight: float | None = None,
    force: bool = False,
    reason: str | None = None,
    actor: str | None = None,
    shadow: bool | None = None,
) -> RolloutState:
    """Move ``version`` to alias ``to``; refuses versions whose gates did not pass unless forced."""
    from ...store.client import client_for

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
    mv = get_version(ws, model, version)
    verdict = mv.tags.get(T_GATES, "pending")
    if verdict != "passed" and not force:
        raise GateFailed(
            f"{model} v{mv.version} cannot go to {to}: its gates are {verdict}",
            hint=f"run `jupyter-mlops validate {model} {mv.version}`, or override with --force --reason TEXT",
        )
    client = client_for(ws)
    with _lock(ws, model):
        st = state(ws, model)
        v = str(mv.version)
        details: dict[str, Any] = {"to": to, "forced": force or None, "gates": verdict}
        if to == "staging":
            details["from_version"] = st.aliases.get("staging")
            client.set_registered_model_alias(model, "staging", v)
            action = "promote"
        elif to == "canary":
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
            if w is None:
                from ..policy import load_policy

                w = (
                    st.canary_weight
                    if st.aliases.get("canary") == v
                    else load_policy(ws).canary_weight
                )
            action = "weight" if st.aliases.get("canary") == v else "promote"
            details.update(
                weight=w,
                from_weight=st.canary_weight if action == "weight" else None,
                shadow=shadow,
            )
            # weight first: a router that sees the new canary alias already sees its weight
            client.set_registered_model_tag(model, WEIGHT_TAG, f"{w:g}")
            if shadow is not None:
                client.set_registered_model_tag(model, SHADOW_TAG, "true" if shadow else "false")
            client.set_registered_model_alias(model, "canary", v)
        else:
            old = st.aliases.get("champion")
            if old == v:
                raise Conflict(f"{model} v{v} is already the champion")
            details["previous"] = old
            if old is not None:
                client.set_registered_model_alias(model, "previous", old)
            client.set_registered_model_alias(model, "champion", v)
            if st.aliases.get("canary") == v:
                client.delete_registered_model_alias(model, "canary")
                client.set_registered_model_tag(model, WEIGHT_TAG, "0")
                client.set_registered_model_tag(model, SHADOW_TAG, "false")
            action = "promote"
        history.record(ws, model, action, version=v, actor=actor, reason=reason, **details)
        return state(ws, model)


def set_canary_weight(
    ws: Workspace, model: str, weight: float, *, reason: str | None = None, actor: str | None = None
) -> RolloutState:
    """Change the canary's share of traffic (the version keeps its alias)."""
    w = _check_weight(weight)
    st = state(ws, model)
    if "canary" not in st.aliases:
        raise NotFound(f"{model} has no canary", hint="promote a version with --to canary first")
    return _set_weight(ws, model, st, w, reason, actor)


def _set_weight(
    ws: Workspace, model: str, st: RolloutState, w: float, reason: str | None, actor: str | None
) -> RolloutState:
    from ...store.client import client_for

    with _lock(ws, model):
        client_for(ws).set_registered_model_tag(model, WEIGHT_TAG, f"{w:g}")
        history.record(
            ws,
            model,
            "weight",
            version=st.aliases["canary"],
            actor=actor,
            reason=reason,
            weight=w,
            from_weight=st.canary_weight,
        )
    return state(ws, model)


def demote_canary(
    ws: Workspace, model: str, reason: str | None = None, actor: str | None = None
) -> RolloutState:
    """Take the canary out of traffic (the monitoring canary guard calls this)."""
    from ...store.client import client_for

    client = client_for(ws)
    with _lock(ws, model):
        st = state(ws, model)
        v = st.aliases.get("canary")
        if v is None:
            raise NotFound(f"{model} has no canary to roll back")
        client.set_registered_model_tag(model, WEIGHT_TAG, "0")
        client.set_registered_model_tag(model, SHADOW_TAG, "false")
        client.delete_registered_model_alias(model, "canary")
        client.set_model_version_tag(model, v, "mlops.rolled_back", "true")
        history.record(
            ws,
            model,
            "rollback",
            version=v,
            actor=actor,
            reason=reason,
            alias="canary",
            weight=st.canary_weight,
        )
        return state(ws, model)


def rollback(
    ws: Workspace,
    model: str,
    reason: str | None = None,
    actor: str | None = None,
    target: str = "auto",
) -> RolloutState:
    """Undo the last step: drop the canary if there is one, else restore ``previous`` as champion."""
    from ...store.client import client_for

    if target not in ("auto", "canary", "champion"):
        raise InvalidInput(f"cannot roll back {target!r}", hint="auto, canary or champion")
    st = state(ws, model)
    if target == "canary" or (target == "auto" and "canary" in st.aliases):
        return demote_canary(ws, model, reason=reason, actor=actor)
    client = client_for(ws)
    with _lock(ws, model):
        st = state(ws, model)
        prev, bad = st.aliases.get("previous"), st.aliases.get("champion")
        if prev is None:
            raise NotFound(
                f"{model} has no previous champion to roll back to",
                hint=f"see `jupyter-mlops history {model}`",
            )
        # champion first, so there is never a moment without one
        client.set_registered_model_alias(model, "champion", prev)
        client.delete_registered_model_alias(model, "previous")
        if bad is not None:
            client.set_model_version_tag(model, bad, "mlops.rolled_back", "true")
        history.record(
            ws,
            model,
            "rollback",
            version=prev,
            actor=actor,
            reason=reason,
            alias="champion",
            from_version=bad,
        )
        return state(ws, model)
