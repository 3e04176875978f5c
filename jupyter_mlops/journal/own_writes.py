"""Read your own writes: a query first waits for the records this process (or a process that just
ended, like a notebook papermill ran) still has queued for the store.

Records of a tracked cell reach MLflow shortly after the cell, from the sync agent (or this
process's own replay thread); a ``%mlops runs`` or ``register`` in the very next cell, or a query
right after a notebook ran, must still see them.
"""

from __future__ import annotations

import time

from ..workspace import Workspace
from .flusher import sinks_for
from .recovery import dead_journal_backlog, recover


def flush_own(ws: Workspace, timeout: float = 10.0) -> None:
    """Read your own writes: land this process's and dead processes' records before a query."""
    land_own_records(ws, timeout)


def land_own_records(ws: Workspace, timeout: float) -> tuple[int, str | None]:
    """Wait until this process's records, and those of processes that ended (the kernel of a
    notebook just run), are in MLflow; stops early when the agent says MLflow does not answer.
    Returns how many records are still queued, and why."""
    deadline = time.monotonic() + timeout
    pending, error = 0, None
    sinks = sinks_for(ws)
    for sink in sinks:
        if sink.box.pending():
            result = sink.flush_now(deadline)
            pending, error = pending + result.pending, error or result.error
    exclude = sinks[0].box if sinks else None
    if dead_journal_backlog(ws, exclude):
        result = recover(ws, exclude=exclude, deadline=deadline)
        pending, error = pending + result.pending, error or result.error
    return pending, error
