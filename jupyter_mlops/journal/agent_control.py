"""Controlling the workspace's sync agent from any process: start it, wake it, read its status, stop it.

Kept apart from the agent itself (``agent.py``, which replays), so a kernel or the replayer can
signal the agent without importing the replay machinery that the agent is built on.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from ..locks import FileLock
from ..workspace import Workspace
from . import pausing
from .outbox import replay_lock

# a tracked cell computing for less than this is left alone: no agent started, nothing sent
QUIET_S = 10.0
# after a tracked cell: the next one of a "run all" starts within this, so the agent waits it out
GRACE_S = 0.5


def _uri_tag(uri: str) -> str:
    return hashlib.sha256(uri.encode()).hexdigest()[:10]


def agent_lock(ws: Workspace) -> FileLock:
    return replay_lock(ws)


def status_path(ws: Workspace) -> Path:
    return ws.state_dir / "locks" / f"agent-{_uri_tag(ws.tracking_uri)}.json"


def wake_path(ws: Workspace) -> Path:
    return ws.state_dir / "locks" / f"agent-{_uri_tag(ws.tracking_uri)}.wake"


def stop_mark_path(ws: Workspace) -> Path:
    """Present while the agent may be stopped for a computing cell (see ``pausing``)."""
    return ws.state_dir / "locks" / f"agent-{_uri_tag(ws.tracking_uri)}.stoppable"


def wake(ws: Workspace) -> None:
    """Ask the agent for a pass now, even while it backs off from an unreachable server, or is
    stopped for a computing cell: someone waits for records."""
    try:
        wake_path(ws).touch()
    except OSError:
        pass
    pausing.resume(stop_mark_path(ws))


def cell_starts(ws: Workspace) -> bool:
    """A tracked cell of this process starts computing: stop the agent if it is in a stretch
    that holds nothing (see ``pausing``). True when it is stopped."""
    return pausing.pause(stop_mark_path(ws))


def cell_ended(ws: Workspace) -> bool:
    """A tracked cell of this process ended (or the process leaves, or someone looks for the
    agent): let a stopped agent go on unless a live process's cell computes."""
    return pausing.resume_unless_computing(stop_mark_path(ws), ws.state_dir / "outbox")


def is_running(ws: Workspace) -> bool:
    """An agent holds the workspace's lock, or one is starting (it takes the lock once its
    imports are done; stopped by a cell meanwhile, it must not be taken for gone)."""
    return not agent_lock(ws).is_free() or pausing.agent_pid(stop_mark_path(ws)) is not None


# the agent's first lines: its priority is lowered (priority.py, run by path, imports nothing of
# the package) before it imports anything, and it says it may be stopped for a computing cell
# (its imports hold nothing: see ``pausing``); then it runs as
# ``python -m jupyter_mlops.journal.agent ROOT --tracking-uri URI --stop-mark PATH``
_START = f"""\
import os, runpy, sys
runpy.run_path({str(Path(__file__).with_name("priority.py"))!r}, run_name="__main__")
try:
    with open(sys.argv[sys.argv.index("--stop-mark") + 1], "w") as mark:
        mark.write(str(os.getpid()))
except (ValueError, IndexError, OSError):
    pass
runpy.run_module("jupyter_mlops.journal.agent", run_name="__main__", alter_sys=True)
"""


def spawn(ws: Workspace) -> subprocess.Popen[bytes]:
    """Start an agent detached from the caller (it outlives a kernel that dies)."""
    (ws.state_dir / "locks").mkdir(parents=True, exist_ok=True)
    log = open(ws.state_dir / "agent.log", "ab")  # noqa: SIM115 - handed to the child
    try:
        return subprocess.Popen(
            [sys.executable, "-c", _START, str(ws.root), "--tracking-uri", ws.tracking_uri]
            + ["--stop-mark", str(stop_mark_path(ws))],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
            close_fds=True,
        )
    finally:
        log.close()


def ensure_running(ws: Workspace) -> bool:
    """Start the workspace's agent unless one runs; True when this call started it. A running
    agent left stopped by a kernel killed mid-cell is resumed."""
    cell_ended(ws)
    if is_running(ws):
        return False
    spawn(ws)
    return True


def read_status(ws: Workspace) -> dict[str, Any]:
    """What the agent last said about itself (pid, last pass, last error), plus whether it runs
    (a starting agent does) and is paused for a computing cell. One left paused by a kernel
    killed mid-cell is resumed."""
    try:
        state: dict[str, Any] = json.loads(status_path(ws).read_text())
    except (OSError, ValueError):
        state = {}
    cell_ended(ws)
    mark = stop_mark_path(ws)
    lock = agent_lock(ws)
    state["running"] = not lock.is_free()
    if state["running"]:
        state.update({k: v for k, v in lock.holder().items() if k in ("pid", "since")})
    elif (starting := pausing.agent_pid(mark)) is not None:
        state.update(running=True, pid=starting)
    pid = state.get("pid")
    state["paused"] = state["running"] and isinstance(pid, int) and pausing.stopped(pid)
    return state


def stalled(state: dict[str, Any], since: float) -> str | None:
    """The agent's error, if a pass it finished after ``since`` (time.time) failed without
    landing anything (MLflow unreachable): worth stopping a wait for. A pass that failed but
    moved on (a lost answer, retried) is not."""
    if state.get("error") and state.get("last_pass", 0) > since and not state.get("progressed"):
        return str(state["error"])
    return None


def stop(ws: Workspace, timeout: float = 10.0) -> bool:
    """Ask the agent to stop (SIGTERM; it finishes the record in hand); True once it is gone."""
    if not is_running(ws):
        return True
    lock = agent_lock(ws)
    pid = pausing.agent_pid(stop_mark_path(ws)) if lock.is_free() else lock.holder().get("pid")
    if isinstance(pid, int):
        try:
            os.kill(pid, signal.SIGTERM)
            os.kill(pid, signal.SIGCONT)  # a stopped agent handles the TERM once resumed
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not is_running(ws):
            return True
        time.sleep(0.05)
    return False
