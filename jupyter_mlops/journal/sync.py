"""``jupyter-mlops sync`` / ``%mlops sync``: empty the workspace's journals; see what is queued.

``outbox_counts`` is the cheap question a status bar asks (records waiting, records MLflow
refused); ``failed_records``, ``retry_failed`` and ``discard_failed`` make refused records
visible and let the user put them back in line or drop them.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..locks import FileLock
from ..workspace import Workspace
from . import agent_control as agent
from .flusher import sinks_for
from .outbox import Outbox, count_rows
from .recovery import recover
from .replay import FlushResult


@dataclass
class SyncReport:
    sent: int
    pending: int
    failed: int
    error: str | None
    failures: list[str] = field(default_factory=list)

    def describe(self) -> str:
        text = f"mlops: sent {self.sent} records; {self.pending} still queued"
        if self.failed:
            text += f"; {self.failed} refused by MLflow: " + "; ".join(self.failures[:3])
        if self.error:
            text += f" (tracking server: {self.error})"
        return text


@dataclass
class OutboxCounts:
    pending: int = 0
    failed: int = 0
    journals: int = 0
    unreadable: int = 0  # journals being created or removed right now: counted, not guessed

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def _journals(ws: Workspace) -> list[Path]:
    folder = ws.state_dir / "outbox"
    return sorted(folder.glob("*.db")) if folder.is_dir() else []


def outbox_counts(ws: Workspace) -> OutboxCounts:
    """Records waiting for MLflow and records it refused, over every journal of the workspace."""
    counts = OutboxCounts()
    for db in _journals(ws):
        counts.journals += 1
        found = count_rows(db, "ops", "failed_ops", timeout=0.5)
        if found is None:
            counts.unreadable += 1
            continue
        counts.pending += found[0]
        counts.failed += found[1]
    return counts


def _open_journal(db: Path) -> Outbox:
    """A journal opened for bookkeeping only: its owner (if alive) keeps its own lock."""
    return Outbox(db, FileLock(db.with_suffix(".lock")))


def failed_records(ws: Workspace) -> list[dict[str, Any]]:
    """Every refused record of the workspace, oldest first, with MLflow's reason."""
    records = []
    for db in _journals(ws):
        box = _open_journal(db)
        try:
            for rec in box.failed():
                rec["journal"] = db.name
                records.append(rec)
        finally:
            box.close()
    return sorted(records, key=lambda r: r["failed"] or 0)


def _each_journal(ws: Workspace, action: str) -> int:
    total = 0
    for db in _journals(ws):
        box = _open_journal(db)
        try:
            total += getattr(box, action)()
        finally:
            box.close()
    return total


def retry_failed(ws: Workspace) -> int:
    """Put every refused record back in line (a sync then sends it again); how many."""
    return _each_journal(ws, "retry_failed")


def discard_failed(ws: Workspace) -> int:
    """Drop every refused record for good; how many."""
    return _each_journal(ws, "discard_failed")


def sync_workspace(ws: Workspace, timeout: float = 60.0) -> SyncReport:
    """Land this process's records and dead processes' journals; then, if live processes'
    journals still hold records, make sure the sync agent runs and wait for it (until timeout)."""
    deadline = time.monotonic() + timeout
    total = FlushResult()
    for sink in sinks_for(ws):
        total.add(sink.flush_now(deadline))
    total.add(recover(ws, deadline=deadline))
    pending = outbox_counts(ws).pending
    if pending and not total.error:
        agent.ensure_running(ws)
        agent.wake(ws)
        began = time.time()
        while pending and time.monotonic() < deadline:
            time.sleep(0.05)
            pending = outbox_counts(ws).pending
            stalled = agent.stalled(agent.read_status(ws), began)
            if pending and stalled:
                total.error = stalled
                break
    total.pending = pending
    return SyncReport(total.sent, total.pending, total.failed, total.error, total.failures)
