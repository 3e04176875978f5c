"""Whether a journal's writer is alive, as two processes looking at once see it.

The agent scans the journals' locks while a process that ran a notebook waits for the dead
kernel's records to land. Neither look may make the other take a dead writer's journal for a
live one: the waiter would stop waiting with the kernel's last records still queued.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys

import pytest

from jupyter_mlops.journal.outbox import Outbox
from jupyter_mlops.journal.records import CreateRun, EndRun
from jupyter_mlops.journal.recovery import dead_journal_backlog
from jupyter_mlops.locks import FileLock


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.fixture
def lock_path(tmp_path):
    lock = FileLock(tmp_path / "journal.lock")
    assert lock.acquire(blocking=False)
    lock.release()
    return lock.path


def test_a_free_lock_is_free_while_another_process_probes_it(lock_path):
    probing = os.open(lock_path, os.O_RDONLY)
    try:
        fcntl.flock(probing, fcntl.LOCK_SH | fcntl.LOCK_NB)  # the other prober, mid-probe
        assert FileLock(lock_path).is_free()
    finally:
        os.close(probing)


def test_a_held_lock_is_not_free(lock_path):
    holder = FileLock(lock_path)
    assert holder.acquire(blocking=False)
    try:
        assert not FileLock(lock_path).is_free()
    finally:
        holder.release()


def _dead_writers_journal(workspace) -> Outbox:
    box = Outbox.create(workspace)
    box.append("k", CreateRun(name="fit"))
    box.append("k", EndRun("FINISHED"))
    box.close()
    box.lock.release()  # the writer died; its name stays in the lock file
    box.lock.path.write_text(json.dumps({"pid": _dead_pid(), "command": "ipykernel"}))
    return box


def test_a_dead_writers_journal_taken_by_someone_else_is_still_to_land(workspace):
    """The agent has flocked the journal but not yet written its name over the dead kernel's
    (or it probes it): the records are still queued."""
    box = _dead_writers_journal(workspace)
    assert dead_journal_backlog(workspace, None) >= 2
    taker = os.open(box.lock.path, os.O_RDWR)
    try:
        fcntl.flock(taker, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert dead_journal_backlog(workspace, None) >= 2
    finally:
        os.close(taker)


def test_a_live_writers_journal_is_not_backlog(workspace):
    box = Outbox.create(workspace)
    try:
        box.append("k", CreateRun(name="fit"))
        assert dead_journal_backlog(workspace, None) == 0
    finally:
        box.close()
        box.lock.release()
