"""The kernels of the notebook tasks running in this process, by task id: the notebook client
registers its kernel while it runs, so a timeout or Ctrl-C can signal it; and the ``MLOPS_*``
variables a task's kernel is started with."""

from __future__ import annotations

import os
import signal
import threading
from typing import Any

from ..settings import child_environment

_ACTIVE: dict[str, Any] = {}
_active_guard = threading.Lock()


def signal_kernel(task_id: str, sig: int = signal.SIGKILL) -> bool:
    """Send ``sig`` to the kernel of a running task (timeouts, Ctrl-C); False when none runs."""
    with _active_guard:
        client = _ACTIVE.get(task_id)
    pid = client.kernel_pid() if client else None
    if not pid:
        return False
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return False
    return True


def forget_task(task_id: str) -> None:
    with _active_guard:
        _ACTIVE.pop(task_id, None)


def kernel_environment(**settings: str | None) -> dict[str, str]:
    """The settings a task's kernel is started with, as variables (None values are left out)."""
    return child_environment(**settings)


def register_active(task_id: str, client: Any) -> None:
    with _active_guard:
        _ACTIVE[task_id] = client
