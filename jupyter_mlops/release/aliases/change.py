"""One alias change, done under the release lease with its audit entry written ahead.

A change is planned from the registry state read *under* the lease, as a short list of registry
writes (``["alias", "champion", "3"]``, ``["unalias", "canary"]``, ``["tag", KEY, VALUE]``,
``["vtag", VERSION, KEY, VALUE]``). The history entry carrying that plan is written first (state
``intent``), then each write is made after a fencing check, then the entry is marked ``done``.
Every write is idempotent, so an intent left behind by a holder that died (or lost the lease)
midway is simply replayed by the next holder before it plans its own change: the aliases never
end half-moved, and no alias change is missing from the trail.

Once the writes are made, and before the entry is marked done, the change is announced
(``alias_moved`` per alias, ``rollback`` for a rollback) with ids derived from the history key,
so a holder that completes a dead one's intent announces it again under the same ids.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ...errors import InvalidInput
from ...journal.events import ALIAS_MOVED, ROLLBACK, emit
from ...limits import LINE_TEXT
from .. import history
from .lease import Lease

if TYPE_CHECKING:
    from ...store.gateway import Gateway

Plan = list[list[str]]
UNREPLAYABLE = ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE")


@dataclass
class PlannedChange:
    """What ``build`` returns: the writes, and how the history entry describes them."""

    action: str
    version: str | None
    plan: Plan
    details: dict[str, Any] = field(default_factory=dict)


def apply_plan(client: Any, model: str, plan: Plan, fence: Callable[[], None]) -> None:
    for step in plan:
        fence()
        op, *args = step
        if op == "alias":
            client.set_registered_model_alias(model, args[0], args[1])
        elif op == "unalias":
            try:
                client.delete_registered_model_alias(model, args[0])
            except Exception as exc:  # already gone: a replayed step
                if "not found" not in str(exc).lower() and "does not exist" not in str(exc):
                    raise
        elif op == "tag":
            client.set_registered_model_tag(model, args[0], args[1])
        elif op == "vtag":
            client.set_model_version_tag(model, args[0], args[1], args[2])
        else:
            raise InvalidInput(f"unknown step {op!r} in a recorded release plan")


def complete_pending(gw: Gateway, model: str, lease: Lease, tags: dict[str, str]) -> int:
    """Replay intents a previous holder left unfinished; returns how many."""

    client = gw.client
    left = history.pending(model, tags)
    from mlflow.exceptions import MlflowException

    for event, plan in left:
        try:
            apply_plan(client, model, plan, lease.fence)
            announce(gw, event, plan, {})
            event.state, event.applied = "done", time.time()
            event.details = {**event.details, "completed_by": lease.who}
        except MlflowException as exc:
            if exc.error_code not in UNREPLAYABLE:
                raise  # the server is unwell: leave the intent for the next holder
            # e.g. its version was deleted meanwhile: say so, never block every later action
            event.state = "failed"
            event.details = {**event.details, "failed": str(exc.message)[:LINE_TEXT]}
        lease.fence()
        history.write(gw, event)
    return len(left)


def change(
    gw: Gateway,
    model: str,
    build: Callable[[Any], PlannedChange | None],
    *,
    actor: str | None = None,
    reason: str | None = None,
) -> PlannedChange | None:
    """Under the lease: finish leftovers, plan from fresh state, record intent, apply, mark done.

    ``build(registered_model)`` raises for a refused change and returns None for "nothing to do".
    """

    client = gw.client
    with Lease(gw, model, actor=actor) as lease:
        rm = client.get_registered_model(model)
        if complete_pending(gw, model, lease, rm.tags):
            rm = client.get_registered_model(model)
        planned = build(rm)
        if planned is None:
            return None
        lease.fence()
        event = history.record(
            gw,
            model,
            planned.action,
            version=planned.version,
            actor=actor,
            reason=reason,
            state="intent",
            plan=planned.plan,
            after=history.newest_key(rm.tags),
            lease=lease.counter,
            **planned.details,
        )
        apply_plan(client, model, planned.plan, lease.fence)
        announce(gw, event, planned.plan, {k: str(v) for k, v in rm.aliases.items()})
        event.state, event.applied = "done", time.time()
        lease.fence()
        history.write(gw, event)
        return planned


def announce(gw: Gateway, entry: history.ReleaseEvent, plan: Plan, before: dict[str, str]) -> None:
    """The events of an applied change: an ``alias_moved`` for each alias it set or removed
    (``before``: the aliases as they were, when known) and a ``rollback`` for a rollback."""
    details, model, key = entry.details, entry.model, entry.key
    common = {"action": entry.action, "reason": entry.reason}
    for op, *args in plan:
        alias = args[0] if op in ("alias", "unalias") else None
        if alias is None:
            continue
        version = args[1] if op == "alias" else None
        if version is not None and before.get(alias) == version:
            continue  # already there: nothing moved
        payload = {"alias": alias, "version": version, "previous_version": before.get(alias)}
        if alias == "canary" and details.get("weight") is not None:
            payload["weight"] = details["weight"]
        emit(
            gw.ws,
            ALIAS_MOVED,
            model=model,
            payload={**payload, **common},
            actor=entry.actor,
            key=(key, alias),
        )
    if entry.action == "rollback":
        if "from_version" in details:  # the champion went back to ``previous``
            moved = {"version": entry.version, "from_version": details.get("from_version")}
        else:  # the canary left the traffic
            moved = {"version": None, "from_version": entry.version}
        payload = {"alias": details.get("alias"), **moved, "reason": entry.reason}
        emit(gw.ws, ROLLBACK, model=model, payload=payload, actor=entry.actor, key=(key,))
