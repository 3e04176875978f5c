"""A tracked cell that starts while the sync agent starts up (or builds a model) stops the agent
outright, and whoever ends the last cell, waits for records or looks for the agent lets it go on.

A real agent process, spawned as a kernel spawns it: from its first line until it opens the
store it is in a stretch that holds nothing, so a cell may stop it there.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from waiting import wait_until

from jupyter_mlops.journal import agent_control, pausing
from jupyter_mlops.journal.outbox import Outbox


def _state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


def _cpu(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def _starting_agent(ws) -> int:
    """Spawn an agent and return its pid as soon as it says it may be stopped."""
    proc = agent_control.spawn(ws)
    mark = agent_control.stop_mark_path(ws)

    def marked() -> bool:  # (a mark left by an agent killed in its start names a dead pid)
        return mark.exists() and mark.read_text() == str(proc.pid)

    wait_until(marked, 60, interval=0.001, message="the agent never marked its start")
    return proc.pid


def test_a_cell_stops_a_starting_agent_and_its_end_resumes_it(workspace):
    box = Outbox.create(workspace)  # this process's journal, as a kernel's
    try:
        pid = _starting_agent(workspace)
        box.busy_path.touch()  # a tracked cell computes
        assert agent_control.cell_starts(workspace), "the starting agent was not stopped"
        assert _state(pid) in ("T", "t")
        used = _cpu(pid)
        time.sleep(0.5)
        assert _cpu(pid) == used, "a stopped agent used CPU"
        agent_control.ensure_running(workspace)  # a cell computes: it stays stopped
        assert _state(pid) in ("T", "t")

        box.busy_path.unlink()
        assert agent_control.cell_ended(workspace), "the cell ended, the agent was not resumed"
        assert _state(pid) not in ("T", "t")
        mark = agent_control.stop_mark_path(workspace)
        wait_until(lambda: not mark.exists(), 120, message="the agent never left its start")
        assert not agent_control.cell_starts(workspace), "an agent out of its stretch was stopped"
        assert _state(pid) not in ("T", "t")
    finally:
        box.close()
        box.lock.release()
        assert agent_control.stop(workspace, timeout=30)


def test_a_stop_left_by_a_killed_kernel_is_undone_by_the_next_process(workspace):
    try:
        pid = _starting_agent(workspace)
        assert agent_control.cell_starts(workspace)
        # the kernel dies mid-cell: its journal lock is free, so no cell computes any more
        agent_control.ensure_running(workspace)  # what the next tracked record does
        assert _state(pid) not in ("T", "t")

        pid = _restarted_agent(workspace)
        assert agent_control.cell_starts(workspace)
        state = agent_control.read_status(workspace)  # `agent status` looks, and resumes it
        assert (state["running"], state["pid"]) == (True, pid)
        assert _state(pid) not in ("T", "t")

        pid = _restarted_agent(workspace)
        assert agent_control.cell_starts(workspace)
    finally:
        assert agent_control.stop(workspace, timeout=30), "a stopped agent did not stop on TERM"


def test_a_kernel_that_exits_mid_cell_resumes_the_agent_it_stopped(workspace):
    from jupyter_mlops.journal.flusher import Sink

    sink = Sink.start(workspace)
    try:
        pid = _starting_agent(workspace)
        sink.computing(True)  # the cell starts: the starting agent is stopped
        assert _state(pid) in ("T", "t")
        sink.stop(timeout=5)  # the process leaves (sys.exit in the cell, a shutdown)
        assert _state(pid) not in ("T", "t")
    finally:
        assert agent_control.stop(workspace, timeout=30)


def _restarted_agent(ws) -> int:
    assert agent_control.stop(ws, timeout=30)
    return _starting_agent(ws)


def test_only_an_agent_inside_its_stretch_is_ever_stopped(workspace):
    mark = agent_control.stop_mark_path(workspace)
    mark.parent.mkdir(parents=True, exist_ok=True)
    assert not agent_control.cell_starts(workspace)  # no mark: no agent to stop
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        mark.write_text(str(other.pid))  # a pid that is not an agent's (reused, say)
        assert not pausing.pause(mark)
        assert _state(other.pid) not in ("T", "t")
        mark.write_text("not a pid")
        assert not pausing.pause(mark)
    finally:
        other.kill()
        other.wait()
