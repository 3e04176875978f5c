"""The sync agent's CPU priority, below the user's work.

Linux's idle scheduling class where there is one (the agent then runs only on a core nobody else
wants), else ``nice``. A multithreaded BLAS fit waits at each barrier for its slowest thread:
with the agent only niced, the share it still got while building the previous cells' models made
a 3 ms fit take 58 ms.

This file imports nothing of the package: ``agent_control.spawn`` runs it by path as the agent's
first lines, so the agent's own imports (about 0.4 s of CPU) already run at the lowered priority.
"""

from __future__ import annotations

import os

NICE = 10  # where there is no idle class


def background_priority() -> None:
    """Lower this process's CPU priority (idle class, else nice); never fails."""
    try:
        os.nice(NICE)
    except OSError:
        pass
    idle = getattr(os, "SCHED_IDLE", None)
    if idle is not None:
        try:
            os.sched_setscheduler(0, idle, os.sched_param(0))
        except OSError:
            pass


def lowered() -> bool:
    """Whether this process already runs at the agent's priority (started by ``spawn``)."""
    return os.getpriority(os.PRIO_PROCESS, 0) >= NICE


if __name__ == "__main__":
    background_priority()
