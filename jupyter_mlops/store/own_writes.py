"""Read your own writes: a query first sends what this process still has queued for the store.

Records of a tracked cell reach MLflow a few milliseconds after the cell, from a background
thread; a ``%mlops runs`` or ``register`` in the very next cell must still see them.
"""

from __future__ import annotations

import time

from ..workspace import Workspace
from .flusher import sinks_for


def flush_own(ws: Workspace, timeout: float = 10.0) -> None:
    """Read your own writes: send this process's queued records before a query reads MLflow."""
    deadline = time.monotonic() + timeout
    for sink in sinks_for(ws):
        if sink.box.pending():
            sink.flush_now(deadline)
