"""What an event is: its kinds, its id and the line a person reads (its journal record is
``records.AnnounceEvent``).

An event says that something happened to the project (a run finished, a version was registered,
an alias moved, an alert fired...). It is written to the journal like any other record (kind
``event``) and handed to the webhook deliveries when the replay reaches it, so it is sent only
after what was journaled before it has landed in MLflow: a receiver told that a run finished
finds the run finished.

An event's ``id`` is its idempotency key, the same in every delivery attempt. Events that two
processes might both announce (an alias change completed by the next lease holder after its
first holder died) get an id derived from what they describe (``event_id(*parts)``), so the
repeat carries the same id and a receiver drops it as already seen.
"""

from __future__ import annotations

import math
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

KEY_PREFIX = "event-"  # an event's journal key: KEY_PREFIX + id

RUN_FINISHED = "run_finished"
VERSION_REGISTERED = "version_registered"
GATE_VERDICT = "gate_verdict"
APPROVAL_REQUESTED = "approval_requested"
APPROVAL_DECIDED = "approval_decided"
ALIAS_MOVED = "alias_moved"
DRIFT_ALERT = "drift_alert"
QUALITY_ALERT = "quality_alert"
ROLLBACK = "rollback"
CYCLE_FINISHED = "cycle_finished"

EVENT_KINDS = (
    RUN_FINISHED,
    VERSION_REGISTERED,
    GATE_VERDICT,
    APPROVAL_REQUESTED,
    APPROVAL_DECIDED,
    ALIAS_MOVED,
    DRIFT_ALERT,
    QUALITY_ALERT,
    ROLLBACK,
    CYCLE_FINISHED,
)

_NAMESPACE = uuid.UUID("6f1c1f2e-5d1e-4d55-9f5a-4a7f0c3b8e21")


def event_id(*parts: object) -> str:
    """A stable id for the event that ``parts`` describe (the same in every process)."""
    return uuid.uuid5(_NAMESPACE, "\x1f".join(str(p) for p in parts)).hex


@dataclass(frozen=True)
class Event:
    """One event, as journaled and as delivered (``to_dict``)."""

    kind: str
    project: str
    model: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    actor: str | None = None
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    ts: float = field(default_factory=time.time)

    @property
    def timestamp(self) -> str:
        """When it happened, ISO 8601 in UTC (as MLflow's webhook payloads write it)."""
        return datetime.fromtimestamp(self.ts, timezone.utc).isoformat()

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "project": self.project,
            "model": self.model,
            "timestamp": self.timestamp,
            "ts": self.ts,
            "actor": self.actor,
            "text": describe(self),
            "data": self.data,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Event:
        return cls(
            kind=str(d["kind"]),
            project=str(d.get("project") or ""),
            model=d.get("model"),
            data=dict(d.get("data") or {}),
            actor=d.get("actor"),
            id=str(d["id"]),
            ts=float(d.get("ts") or time.time()),
        )


def _v(version: object) -> str:
    return f"v{version}" if version not in (None, "") else "no version"


def _by(event: Event) -> str:
    return f" by {event.actor}" if event.actor else ""


def _why(data: dict[str, Any]) -> str:
    reason = data.get("reason")
    return f": {reason}" if reason else ""


def _alias_moved(e: Event, d: dict[str, Any]) -> str:
    alias, version, before = d.get("alias"), d.get("version"), d.get("previous_version")
    if version is None:
        return f"{e.model}: {alias} removed (was {_v(before)}){_by(e)}{_why(d)}"
    was = f" (was {_v(before)})" if before not in (None, "") else ""
    weight = f" at {d['weight']:g}% of traffic" if isinstance(d.get("weight"), (int, float)) else ""
    return f"{e.model}: {_v(version)} is now {alias}{weight}{was}{_by(e)}{_why(d)}"


def _run_finished(e: Event, d: dict[str, Any]) -> str:
    name = d.get("name") or d.get("run_id") or d.get("run_key", "")[:8]
    where = f" in {d['experiment']}" if d.get("experiment") else ""
    took = (
        f" after {d['duration_s']:.1f} s" if isinstance(d.get("duration_s"), (int, float)) else ""
    )
    error = f" ({d['error']})" if d.get("error") else ""
    return f"run {name}{where} {str(d.get('status', 'finished')).lower()}{took}{error}"


def _alert(e: Event, d: dict[str, Any]) -> str:
    what = "drift" if e.kind == DRIFT_ALERT else "quality"
    alerts = "; ".join(str(a) for a in d.get("alerts") or []) or "past its threshold"
    return f"{e.model}: {what} alert: {alerts}"


def _cycle(e: Event, d: dict[str, Any]) -> str:
    outcome = d.get("outcome") or d.get("status") or "finished"
    why = f" ({d['reason']})" if d.get("reason") else ""
    version = f", {_v(d['version'])}" if d.get("version") else ""
    return f"{e.model}: loop cycle {outcome}{version}{why}"


def describe(event: Event) -> str:
    """One readable line (what Slack shows, what ``jupyter-mlops events`` lists)."""
    d, e = event.data, event
    line = {
        RUN_FINISHED: lambda: _run_finished(e, d),
        VERSION_REGISTERED: lambda: (
            f"{e.model}: {_v(d.get('version'))} registered from run {d.get('run_id', '?')}{_by(e)}"
        ),
        GATE_VERDICT: lambda: (
            f"{e.model}: {_v(d.get('version'))} {d.get('verdict', '?')} its gates"
            + (f" (failed: {', '.join(d['failed'])})" if d.get("failed") else "")
        ),
        APPROVAL_REQUESTED: lambda: (
            f"{e.model}: approval requested for {_v(d.get('version'))} to become "
            f"{d.get('alias', '?')}{_by(e)}"
        ),
        APPROVAL_DECIDED: lambda: (
            f"{e.model}: {_v(d.get('version'))} to {d.get('alias', '?')} "
            f"{d.get('decision', 'decided')}{_by(e)}{_why(d)}"
        ),
        ALIAS_MOVED: lambda: _alias_moved(e, d),
        DRIFT_ALERT: lambda: _alert(e, d),
        QUALITY_ALERT: lambda: _alert(e, d),
        ROLLBACK: lambda: (
            f"{e.model}: {d.get('alias', 'release')} rolled back"
            + (f" from {_v(d['from_version'])}" if d.get("from_version") else "")
            + (f" to {_v(d['version'])}" if d.get("version") else "")
            + f"{_by(e)}{_why(d)}"
        ),
        CYCLE_FINISHED: lambda: _cycle(e, d),
    }.get(event.kind)
    text = line() if line is not None else f"{event.kind}: {d}"
    return f"[{event.project}] {text}" if event.project else text


def plain(value: Any) -> Any:
    """``value`` as strict JSON data: numpy numbers as Python ones, NaN and infinities as None,
    anything else unknown as its text (an event must always be journaled)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [plain(v) for v in value]
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        try:
            return plain(item())
        except (TypeError, ValueError):
            pass
    return str(value)
