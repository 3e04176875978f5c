"""The release audit trail: who did what to which version, when and why.

Storage choice: one registered-model tag per event, ``mlops.history.<ms>.<random>`` holding a JSON
record. Tags live in the registry itself, so the trail travels with the model to any MLflow
server (no side file to lose), every MLflow client can read it, and appending never rewrites an
earlier record: keys are unique (time + random suffix), so two writers cannot overwrite each
other, and sorting the keys gives the order of events.

Alias changes are written ahead: the event is recorded with ``state: "intent"`` and the exact
registry writes it will make (``plan``) *before* the first alias moves, and rewritten as ``done``
after the last one, all under the release lease. So there is never an alias change without its
entry: a holder that dies midway leaves an intent, which the next lease holder completes. Under
the lease, keys are also made to grow (``after=`` the newest key), so the trail keeps the lease's
order even when the machines' clocks disagree.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from ..tags import HISTORY_PREFIX
from .registered_model import get_registered_model

if TYPE_CHECKING:
    from ..store.gateway import Gateway

MAX_REASON = 2000


@dataclass
class ReleaseEvent:
    action: str  # register | gate | promote | rollback | weight | demote
    model: str
    version: str | None = None
    actor: str = ""
    reason: str | None = None
    ts: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)
    state: str = "done"  # intent: written ahead of its alias change and not yet completed
    applied: float | None = None  # when the last registry write of the change was made
    key: str = ""

    def line(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.ts))
        ver = f"v{self.version}" if self.version else "-"
        extra = " ".join(f"{k}={v}" for k, v in self.details.items() if v not in (None, ""))
        why = f"  # {self.reason}" if self.reason else ""
        pending = {
            "intent": " (incomplete: completed by the next release action)",
            "failed": " (could not be completed)",
        }.get(self.state, "")
        return f"{when}  {self.actor:<12} {self.action:<9} {ver:<6} {extra}{why}{pending}"


def record(
    gw: Gateway,
    model: str,
    action: str,
    *,
    version: str | int | None = None,
    actor: str | None = None,
    reason: str | None = None,
    state: str = "done",
    plan: list[list[str]] | None = None,
    after: str | None = None,
    **details: Any,
) -> ReleaseEvent:
    """Append one event to the model's trail (never edits an earlier one).

    ``state="intent"`` with ``plan`` writes an alias change ahead (see the module docstring);
    ``after`` is the newest history key seen under the lease: the new key sorts after it."""

    event = ReleaseEvent(
        action=action,
        model=model,
        version=str(version) if version is not None else None,
        actor=gw.actor(actor),
        reason=(reason or None) and str(reason)[:MAX_REASON],
        ts=time.time(),
        details={k: v for k, v in details.items() if v is not None},
    )
    ms = int(event.ts * 1000)
    if after:
        ms = max(ms, key_millis(after) + 1)
    event.state = state
    event.key = f"{HISTORY_PREFIX}{ms:013d}.{secrets.token_hex(3)}"
    write(gw, event, plan)
    return event


def write(gw: Gateway, event: ReleaseEvent, plan: list[list[str]] | None = None) -> None:
    """(Re)write ``event`` under its key: an intent becomes done in place."""

    payload = asdict(event)
    for name in ("model", "key"):
        payload.pop(name)
    if event.state == "done":
        payload.pop("state")
    if event.applied is None:
        payload.pop("applied")
    if plan is not None and event.state == "intent":
        payload["plan"] = plan
    gw.client.set_registered_model_tag(event.model, event.key, json.dumps(payload, sort_keys=True))


def key_millis(key: str) -> int:
    try:
        return int(key[len(HISTORY_PREFIX) :].split(".", 1)[0])
    except ValueError:
        return 0


def newest_key(tags: dict[str, str]) -> str | None:
    keys = [k for k in tags if k.startswith(HISTORY_PREFIX)]
    return max(keys, key=lambda k: (key_millis(k), k)) if keys else None


def pending(model: str, tags: dict[str, str]) -> list[tuple[ReleaseEvent, list[list[str]]]]:
    """Intents left by a holder that stopped midway, oldest first, with their plans."""
    out = []
    for event in parse_events(model, tags):
        if event.state == "intent":
            plan = json.loads(tags[event.key]).get("plan") or []
            out.append((event, plan))
    return out


def events(gw: Gateway, model: str) -> list[ReleaseEvent]:
    """Every recorded event of ``model``, oldest first."""
    return parse_events(model, get_registered_model(gw, model).tags)


def parse_events(model: str, tags: dict[str, str]) -> list[ReleaseEvent]:
    out = []
    for key in sorted((k for k in tags if k.startswith(HISTORY_PREFIX)), key=_order):
        try:
            data = json.loads(tags[key])
            fields = {k: data.get(k) for k in _FIELDS}
        except (ValueError, AttributeError):
            continue  # a hand-edited tag: skip it rather than hide the rest of the trail
        fields["state"] = fields["state"] or "done"
        fields["details"] = fields["details"] or {}
        out.append(ReleaseEvent(model=model, key=key, **fields))
    return out


def _order(key: str) -> tuple[int, str]:
    return key_millis(key), key


_FIELDS = ("action", "version", "actor", "reason", "ts", "details", "state", "applied")


def format_history(evts: list[ReleaseEvent]) -> str:
    if not evts:
        return "(no release events recorded)"
    return "\n".join(e.line() for e in evts)
