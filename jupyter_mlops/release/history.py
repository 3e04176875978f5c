"""The release audit trail: who did what to which version, when and why.

Storage choice: one registered-model tag per event, ``mlops.history.<ms>.<random>`` holding a JSON
record. Tags live in the registry itself, so the trail travels with the model to any MLflow
server (no side file to lose), every MLflow client can read it, and appending never rewrites an
earlier record: keys are unique (time + random suffix), so two writers cannot overwrite each
other, and sorting the keys gives the order of events.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from ..store.identity import authenticated_user, login_name
from ..workspace import Workspace

HISTORY_PREFIX = "mlops.history."
MAX_REASON = 2000


def current_actor(actor: str | None = None, tracking_uri: str = "") -> str:
    """Who acts: explicit (the signed-in Jupyter user), else the user the tracking server
    authenticates (a label cannot override it), else ``MLOPS_ACTOR`` (services, CI), else the
    login name."""
    if actor:
        return actor
    authenticated = authenticated_user(tracking_uri)
    if authenticated:
        return authenticated
    env = os.environ.get("MLOPS_ACTOR")
    if env:
        return env
    return login_name() or "unknown"


@dataclass
class ReleaseEvent:
    action: str  # register | gate | promote | rollback | weight | demote
    model: str
    version: str | None = None
    actor: str = ""
    reason: str | None = None
    ts: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.ts))
        ver = f"v{self.version}" if self.version else "-"
        extra = " ".join(f"{k}={v}" for k, v in self.details.items() if v not in (None, ""))
        why = f"  # {self.reason}" if self.reason else ""
        return f"{when}  {self.actor:<12} {self.action:<9} {ver:<6} {extra}{why}"


def record(
    ws: Workspace,
    model: str,
    action: str,
    *,
    version: str | int | None = None,
    actor: str | None = None,
    reason: str | None = None,
    **details: Any,
) -> ReleaseEvent:
    """Append one event to the model's trail (never edits an earlier one)."""
    from ..store.client import client_for

    event = ReleaseEvent(
        action=action,
        model=model,
        version=str(version) if version is not None else None,
        actor=current_actor(actor, ws.tracking_uri),
        reason=(reason or None) and str(reason)[:MAX_REASON],
        ts=time.time(),
        details={k: v for k, v in details.items() if v is not None},
    )
    key = f"{HISTORY_PREFIX}{int(event.ts * 1000):013d}.{secrets.token_hex(3)}"
    payload = asdict(event)
    payload.pop("model")
    client_for(ws).set_registered_model_tag(model, key, json.dumps(payload, sort_keys=True))
    return event


def events(ws: Workspace, model: str) -> list[ReleaseEvent]:
    """Every recorded event of ``model``, oldest first."""
    from .registry import get_registered_model

    tags = get_registered_model(ws, model).tags
    out = []
    for key in sorted(k for k in tags if k.startswith(HISTORY_PREFIX)):
        try:
            data = json.loads(tags[key])
        except ValueError:
            continue  # a hand-edited tag: skip it rather than hide the rest of the trail
        out.append(ReleaseEvent(model=model, **{k: data.get(k) for k in _FIELDS}))
    return out


_FIELDS = ("action", "version", "actor", "reason", "ts", "details")


def format_history(evts: list[ReleaseEvent]) -> str:
    if not evts:
        return "(no release events recorded)"
    return "\n".join(e.line() for e in evts)
