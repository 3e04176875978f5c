"""``jupyter-mlops sync`` / ``%mlops sync``: empty this process's and dead processes' journals."""

from __future__ import annotations

import time
from dataclasses import dataclass

from ..workspace import Workspace
from .replay import FlushResult, recover


@dataclass
class SyncReport:
    sent: int
    pending: int
    failed: int
    error: str | None
    failures: list[str]

    def describe(self) -> str:
        text = f"mlops: sent {self.sent} records; {self.pending} still queued"
        if self.failed:
            text += f"; {self.failed} refused by MLflow: " + "; ".join(self.failures[:3])
        if self.error:
            text += f" (tracking server: {self.error})"
        return text


def sync_workspace(ws: Workspace, timeout: float = 60.0) -> SyncReport:
    from ..capture import tracker

    deadline = time.monotonic() + timeout
    total = FlushResult()
    for sink in tracker.sinks_for(ws):
        result = sink.flush_now(deadline)
        total.sent += result.sent
        total.pending += result.pending
        total.failed += result.failed
        total.failures += result.failures
        total.error = result.error
    result = recover(ws, deadline=deadline)
    return SyncReport(
        total.sent + result.sent,
        total.pending + result.pending,
        total.failed + result.failed,
        total.error or result.error,
        total.failures + result.failures,
    )
