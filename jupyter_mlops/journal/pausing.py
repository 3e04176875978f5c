"""Holding the sync agent still while a tracked cell computes.

A low priority is not enough. A multithreaded BLAS fit has its threads spin and yield between
two small calls; with any other process runnable on the machine, the yielding thread hands its
core over until the next scheduler tick, whatever that process's priority. A 0.1 s LightGBM fit
took 0.6 to 1.2 s while the agent, in the idle class, built the previous cells' models.

So the agent is stopped (``SIGSTOP``) while a tracked cell computes, in the stretches where it
holds nothing anyone else may wait for: its start (interpreter and imports), the import of
MLflow, and the build of a model from a staged estimator. It says so with a mark file holding its
pid, present only inside those stretches (``StopMark``). The kernel whose cell starts sends the
stop, waits until the agent is stopped, and then looks at the mark again: gone means the agent
left the stretch before the stop landed, and it is resumed at once. Whoever ends the last
computing cell, wants records now (``agent_control.wake``) or stops the agent resumes it, and a
stop left behind by a killed kernel is undone by the next process that looks for the agent.

Linux only (``/proc``); elsewhere nothing is stopped and the agent only yields between records.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..locks import FileLock

STOP_WAIT_S = 0.2  # an agent not stopped by then is resumed: it keeps running, as before
_AGENT_MODULE = b"jupyter_mlops.journal.agent"


class StopMark:
    """The agent's side: inside ``stoppable()`` it may be stopped at any instant. Without a
    path (an agent run inside another process, as tests do) it marks nothing."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path

    def enter(self) -> None:
        if self.path is None:
            return
        try:
            self.path.write_text(str(os.getpid()))
        except OSError:
            pass  # not stoppable, then: it only yields between records

    def leave(self) -> None:
        """Leave before touching a journal or a store: a stop then finds no mark and resumes.
        (A mark of another pid is left: an agent that found one running and exits.)"""
        if self.path is None:
            return
        try:
            if self.path.read_text() == str(os.getpid()):
                self.path.unlink()
        except OSError:
            pass

    @contextmanager
    def stoppable(self) -> Iterator[None]:
        self.enter()
        try:
            yield
        finally:
            self.leave()


def pause(mark: Path) -> bool:
    """Stop the agent if it is inside a stoppable stretch; True when it is stopped now."""
    pid = agent_pid(mark)
    if pid is None or not _signal(pid, signal.SIGSTOP):
        return False
    deadline = time.monotonic() + STOP_WAIT_S
    while not stopped(pid):
        if time.monotonic() > deadline:
            _signal(pid, signal.SIGCONT)
            return False
        time.sleep(0.0005)
    if agent_pid(mark) != pid:  # it left the stretch before the stop landed
        _signal(pid, signal.SIGCONT)
        return False
    return True


def resume(mark: Path) -> bool:
    """Let a stopped agent go on; True when it was stopped."""
    pid = agent_pid(mark)
    if pid is None or not stopped(pid):
        return False
    return _signal(pid, signal.SIGCONT)


def resume_unless_computing(mark: Path, journals: Path) -> bool:
    """Resume the agent unless a live process's tracked cell computes (a kernel that stopped
    it and was killed before its cell ended leaves it stopped)."""
    pid = agent_pid(mark)
    if pid is None or not stopped(pid) or computing_since(journals) is not None:
        return False
    return _signal(pid, signal.SIGCONT)


def computing_since(journals: Path, exclude: Path | None = None) -> float | None:
    """When the earliest tracked cell computing now began (time.time), if one does: a journal
    marked ``.busy`` whose process is alive (a process that died mid-cell computes nothing)."""
    since = None
    try:
        busy = list(journals.glob("*.busy"))
    except OSError:
        return None
    for path in busy:
        if exclude is not None and path == exclude:
            continue
        try:
            started = os.stat(path).st_mtime_ns / 1e9
        except OSError:
            continue
        if FileLock(path.with_suffix(".lock")).is_free():
            continue
        since = started if since is None else min(since, started)
    return since


def agent_pid(mark: Path) -> int | None:
    """The pid in the mark, if it is a live agent's (a pid reused by another process is not)."""
    try:
        pid = int(mark.read_text())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return None
    return pid if _AGENT_MODULE in cmdline else None


def stopped(pid: int) -> bool:
    """Whether ``pid`` is stopped (by a computing cell, for an agent)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state in ("T", "t")


def _signal(pid: int, sig: signal.Signals) -> bool:
    try:
        os.kill(pid, sig)
    except OSError:
        return False
    return True
