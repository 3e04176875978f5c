"""The journals of dead processes: landed by the one process that holds the replay lock.

A process that died (a killed kernel, a papermill run killed with kill -9, a build cut short)
leaves its journal on disk with its flock released. Whoever holds the workspace's replay lock
(the sync agent; else ``jupyter-mlops sync`` or a read barrier) replays it, marks the runs it
left open FAILED (tag ``mlops.failure``), and removes it once drained. Anyone else waits for the
agent to do it instead, so two processes never replay one journal at once.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from ..locks import FileLock
from ..tags import FAILURE_TAG
from ..workspace import Workspace
from .agent_control import read_status, stalled, wake
from .outbox import Outbox, count_rows, replay_lock
from .records import EndRun, LogData
from .replay import FlushResult, Replayer

AWAIT_AGENT_S = 120.0  # longest a recover() waits on the agent without a deadline
DIED = "the process recording this run died"  # the failure tag of a run a dead process left open


def recover(
    ws: Workspace,
    *,
    exclude: Outbox | None = None,
    deadline: float | None = None,
    client: Any = None,
    as_agent: bool = False,
    hold_large: Callable[[], bool] | None = None,
) -> FlushResult:
    """Replay the journals of dead processes; runs they left open are marked FAILED.

    Only the holder of the workspace's replay lock replays: when the sync agent runs, this waits
    for it to land the dead journals instead (until ``deadline``, or until it reports MLflow
    unreachable), so two processes never replay one journal at once.
    """
    if as_agent:
        return _recover(ws, exclude, deadline, client, hold_large)
    lock = replay_lock(ws)
    if not lock.acquire(blocking=False):
        return _await_agent(ws, exclude, deadline)
    try:
        return _recover(ws, exclude, deadline, client)
    finally:
        lock.release()


def dead_journal_backlog(ws: Workspace, exclude: Outbox | None) -> int:
    """Records (and open runs) in journals whose process is dead, landed or being landed."""
    folder = ws.state_dir / "outbox"
    backlog = 0
    agent_pid = replay_lock(ws).holder().get("pid")
    for db in sorted(folder.glob("*.db")) if folder.is_dir() else []:
        if exclude is not None and db == exclude.path:
            continue
        lock = FileLock(db.with_suffix(".lock"))
        if not lock.is_free() and _alive_holder(lock.holder().get("pid"), agent_pid):
            continue  # its own process holds it: alive
        found = count_rows(db, "ops", "runs WHERE open = 1")
        if found is not None:
            backlog += sum(found)
    return backlog


def _alive_holder(pid: Any, agent_pid: Any) -> bool:
    """Whether the pid a journal's lock names is its own live process. The agent landing it, or
    a lock taken by the agent whose name it has not yet written over the dead writer's, is not:
    those records are still to land."""
    if not isinstance(pid, int) or pid == agent_pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, someone else's
        pass
    return True


def _await_agent(ws: Workspace, exclude: Outbox | None, deadline: float | None) -> FlushResult:
    began = time.time()
    wake(ws)
    deadline = deadline if deadline is not None else time.monotonic() + AWAIT_AGENT_S
    backlog = dead_journal_backlog(ws, exclude)
    error = None
    while backlog and time.monotonic() < deadline:
        time.sleep(0.05)
        backlog = dead_journal_backlog(ws, exclude)
        stalled_by = stalled(read_status(ws), began)
        if backlog and stalled_by:
            error = stalled_by
            break
    return FlushResult(pending=backlog, error=error if backlog else None)


def _recover(
    ws: Workspace,
    exclude: Outbox | None,
    deadline: float | None,
    client: Any,
    hold_large: Callable[[], bool] | None = None,
) -> FlushResult:
    total = FlushResult()
    folder = ws.state_dir / "outbox"
    if not folder.is_dir():
        return total
    for db in sorted(folder.glob("*.db")):
        if exclude is not None and db == exclude.path:
            continue
        lock = FileLock(db.with_suffix(".lock"))
        if not lock.acquire(blocking=False):
            continue  # its process is alive
        box = Outbox(db, lock)
        try:
            _close_open_runs(box)
            total.add(Replayer(ws, box, client).flush(deadline, hold_large=hold_large))
            if not box.remove_if_drained():
                box.close()
                lock.release()
        except Exception:
            box.close()
            lock.release()
            raise
    return total


def _close_open_runs(box: Outbox) -> None:
    now_ms = int(time.time() * 1000)
    for run_key, last_seen in box.conn.execute(
        "SELECT r.run_key, MAX(r.last_seen, COALESCE(MAX(o.created), 0)) FROM runs r "
        "LEFT JOIN ops o ON o.run_key = r.run_key WHERE r.open = 1 GROUP BY r.run_key"
    ).fetchall():
        with box.batch():
            box.append(run_key, LogData(tags={FAILURE_TAG: DIED}))
            box.append(run_key, EndRun("FAILED", end_time=min(now_ms, int(last_seen * 1000))))
