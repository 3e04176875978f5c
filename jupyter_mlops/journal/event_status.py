"""What ``jupyter-mlops events`` and ``GET events`` show: the declared receivers, and the recent
deliveries with their state (pending, delivered, failed), attempts, last answer and error.

Reading it never creates the delivery queue. When deliveries wait and no sync agent runs (it was
stopped, the machine restarted), asking starts one, since it is the agent that delivers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from ..workspace import Workspace
from . import agent_control
from .deliveries import Delivery, read_queue
from .webhook_spec import WebhookNotReady, WebhookSpec, load_webhooks


def _target(spec: WebhookSpec) -> str:
    """Where it posts, without the path or query (they may hold a token)."""
    if spec.url is None:
        return f"${spec.url_env}"
    parsed = urlparse(spec.url)
    return f"{parsed.scheme}://{parsed.netloc}/…" if parsed.path not in ("", "/") else spec.url


def _receiver(spec: WebhookSpec) -> dict[str, Any]:
    problem = None
    try:
        spec.target()
        spec.secret()
    except WebhookNotReady as exc:
        problem = f"{exc} where this runs"
    return {
        "name": spec.name,
        "target": _target(spec),
        "format": spec.format,
        "events": list(spec.events),
        "models": list(spec.models),
        "signed": spec.secret_env is not None,
        "problem": problem,
    }


@dataclass
class EventStatus:
    receivers: list[dict[str, Any]]
    counts: dict[str, int]
    deliveries: list[Delivery]
    agent_running: bool
    agent_started: bool = False
    retried: int = 0
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "receivers": self.receivers,
            "counts": self.counts,
            "deliveries": [d.to_dict() for d in self.deliveries],
            "agent_running": self.agent_running,
            "retried": self.retried,
            "problems": self.problems,
        }

    def to_text(self) -> str:
        lines = [f"webhooks ({len(self.receivers)}):" if self.receivers else "no webhooks declared"]
        for r in self.receivers:
            kinds = ", ".join(r["events"]) or "all events"
            models = f"  models: {', '.join(r['models'])}" if r["models"] else ""
            problem = f"  ! {r['problem']}" if r["problem"] else ""
            lines.append(
                f"  {r['name']:<14} {r['format']:<6} {r['target']}  {kinds}{models}{problem}"
            )
        c = self.counts
        lines.append(
            f"deliveries: {c['pending']} pending, {c['delivered']} delivered, {c['failed']} failed"
        )
        lines += [f"  {_delivery_line(d)}" for d in self.deliveries]
        if self.retried:
            lines.append(f"{self.retried} failed deliveries put back in line")
        if self.agent_started:
            lines.append("(the sync agent was started to deliver the pending ones)")
        elif c["failed"] and not self.retried:
            lines.append("hint: `jupyter-mlops events --retry-failed` sends the failed ones again")
        lines += [f"! {p}" for p in self.problems]
        return "\n".join(lines)


def _delivery_line(d: Delivery) -> str:
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(d.event.ts))
    tries = f"{d.attempts} attempt{'s' if d.attempts != 1 else ''}"
    answer = f"{d.status}, " if d.status is not None else ""
    detail = f"{answer}{tries}"
    if d.state == "pending" and d.attempts:
        wait = max(d.next_try - time.time(), 0.0)
        detail += f"; next in {wait:.0f} s"
    if d.error and d.state != "delivered":
        detail += f": {d.error}"
    text = d.event.to_dict()["text"]
    return f"{when}  {d.receiver:<14} {d.state:<9} {d.event.kind:<18} {text}  ({detail})"


def event_status(
    ws: Workspace, *, limit: int = 20, state: str | None = None, retry_failed: bool = False
) -> EventStatus:
    """The receivers and the newest ``limit`` deliveries (of ``state``); ``retry_failed`` puts
    failed deliveries back in line first."""
    problems: list[str] = []
    try:
        receivers = [_receiver(s) for s in load_webhooks(ws)]
    except Exception as exc:  # a broken events: section is shown, not raised: the log still reads
        receivers, problems = [], [str(exc)]
    queue = read_queue(ws)
    status = EventStatus(receivers, dict.fromkeys(("pending", "delivered", "failed"), 0), [], False)
    status.problems = problems
    if queue is not None:
        try:
            if retry_failed:
                status.retried = queue.retry_failed()
            status.counts = queue.counts()
            status.deliveries = queue.recent(limit, state)
        finally:
            queue.close()
    status.agent_running = agent_control.is_running(ws)
    if status.counts["pending"]:
        if not status.agent_running:
            status.agent_started = agent_control.ensure_running(ws)
            status.agent_running = True
        else:
            agent_control.wake(ws)  # retried deliveries go out now, not at the next poll
    return status
