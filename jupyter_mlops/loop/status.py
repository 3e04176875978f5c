"""What the loop is doing, for ``jupyter-mlops loop status`` and the sidebar's Loop view: its
leader, each trigger with what it last saw and its next scheduled firing, the cycle under way
and the recent ones, and the approvals waiting for a decision."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from ..release.aliases.lease import LeaseValue
from ..release.approvals import Approval, approvals
from ..store.gateway import Gateway
from ..tags import LOOP_LEADER_TAG
from .cycle import Cycle, CycleBook
from .memory import memories
from .service import loop_model
from .spec import LoopSpec, load_loop_spec
from .triggers import describe, next_after


@dataclass
class TriggerState:
    name: str
    kind: str
    description: str
    next_firing: float | None = None  # schedules
    last_fired: float | None = None
    value: float | None = None  # alerts: the figure last seen
    holding_since: float | None = None  # alerts: since when the condition holds
    error: str | None = None


@dataclass
class LoopStatus:
    model: str
    poll: float
    leader: str | None
    leader_until: float | None
    triggers: list[TriggerState] = field(default_factory=list)
    active: Cycle | None = None
    cycles: list[Cycle] = field(default_factory=list)
    pending: list[Approval] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "poll": self.poll,
            "leader": self.leader,
            "leader_until": self.leader_until,
            "triggers": [asdict(t) for t in self.triggers],
            "active": self.active.to_dict() if self.active else None,
            "cycles": [c.to_dict() for c in self.cycles],
            "pending": [a.to_dict() for a in self.pending],
        }


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def loop_status(gw: Gateway, spec: LoopSpec | None = None, *, limit: int = 20) -> LoopStatus:
    """The loop's state as the registry and its cycle runs hold it (no model yet: empty)."""
    from mlflow.exceptions import MlflowException

    spec = spec if spec is not None else load_loop_spec(gw.ws)
    model = loop_model(spec)
    ws = gw.ws
    fresh = ws.is_embedded and not (ws.state_dir / "mlflow.db").is_file()
    tags: dict[str, str] = {}
    if not fresh:  # reading never creates an embedded store
        gw.before_read()
        try:
            tags = dict(gw.client.get_registered_model(model).tags)
        except MlflowException:
            pass
    now = time.time()
    lease = LeaseValue.parse(tags.get(LOOP_LEADER_TAG))
    alive = lease.holder is not None and lease.expires > now
    status = LoopStatus(
        model,
        spec.poll,
        lease.who if alive else None,
        lease.expires if alive else None,
    )
    known = memories(tags)
    for trigger in spec.triggers.values():
        memory = known.get(trigger.name, {})
        item = TriggerState(
            trigger.name,
            trigger.kind,
            describe(trigger),
            last_fired=_number(memory.get("fired")),
            value=_number(memory.get("value")),
            holding_since=_number(memory.get("since")),
            error=memory.get("error"),
        )
        if trigger.kind == "schedule":
            item.next_firing = _number(memory.get("next")) or next_after(trigger, now)
        status.triggers.append(item)
    status.cycles = [] if fresh else CycleBook(gw, model).recent(limit)
    status.active = next((c for c in status.cycles if c.active), None)
    if tags:
        status.pending = approvals(gw, model, state="requested")
    return status


def _when(ts: float | None) -> str:
    return "-" if ts is None else datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")


def format_status(status: LoopStatus) -> str:
    lines = [
        f"loop of {status.model}: "
        + (
            f"led by {status.leader} (lease until {_when(status.leader_until)})"
            if status.leader
            else "no loop process leads it (start one: jupyter-mlops loop serve)"
        )
    ]
    lines.append(f"triggers (checked every {status.poll:g} s):")
    for t in status.triggers:
        extra = []
        if t.next_firing is not None:
            extra.append(f"next {_when(t.next_firing)}")
        if t.value is not None:
            extra.append(f"now {t.value:.3g}")
        if t.last_fired is not None:
            extra.append(f"last fired {_when(t.last_fired)}")
        if t.error:
            extra.append(f"error: {t.error}")
        tail = f"  [{'; '.join(extra)}]" if extra else ""
        lines.append(f"  {t.name:<14} {t.kind:<9} {t.description}{tail}")
    if not status.triggers:
        lines.append("  (none declared: cycles start by hand, `jupyter-mlops loop run`)")
    if status.pending:
        lines.append("waiting for approval:")
        for a in status.pending:
            lines.append(f"  {a.model} v{a.version} -> {a.alias}, asked by {a.requested_by}")
    lines.append("cycles (newest first):")
    for c in status.cycles[:10]:
        stages = " > ".join(f"{s.stage}:{s.status}" for s in c.stages)
        lines.append(f"  {_when(c.started)}  {c.summary()}")
        if stages:
            lines.append(f"      {stages}")
    if not status.cycles:
        lines.append("  (none yet)")
    return "\n".join(lines)
