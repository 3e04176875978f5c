"""The process's half of tracking: its journal, and the sync agent that empties it into MLflow.

The process never talks to MLflow for tracking: it appends to its journal and the workspace's
sync agent (``journal.agent``, a separate process started on demand) replays it. Waiting for
one's own records (``flush_now``: ``%mlops sync``, ``wait_synced``, read-your-own-writes before a
query) means watching the journal drain, since the agent deletes a record only once MLflow
confirmed it.

A small thread reads git state off the cell's path.
"""

from __future__ import annotations

import atexit
import logging
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..tags import GIT_BRANCH_TAG, GIT_DIRTY_TAG, GIT_SHA_TAG, REDACTED_DIFF_TAG
from ..workspace import Workspace
from . import agent_control as agent
from .agent_control import GRACE_S, QUIET_S
from .faults import classify_text
from .outbox import Outbox
from .records import LogData, LogText
from .replay import FlushResult

log = logging.getLogger("jupyter_mlops")

IDLE_INTERVAL = 0.5
AGENT_CHECK_S = 1.0

# reads a repository's state (sha, branch, dirty, diff, remote), or None outside git; passed in
# by the capture layer, which the store must not import
GitReader = Callable[[Path], "dict[str, Any] | None"]

_sinks: dict[tuple[str, str], Sink] = {}
_sinks_guard = threading.Lock()


def sink_for(ws: Workspace) -> Sink:
    """The process's outbox + flusher for ``ws`` (started on first use)."""
    key = (str(ws.root), ws.tracking_uri)
    with _sinks_guard:
        sink = _sinks.get(key)
        if sink is None:
            sink = _sinks[key] = Sink.start(ws)
        return sink


def sinks_for(ws: Workspace) -> list[Sink]:
    """The sinks this process has open for ``ws`` (none if it tracked nothing there)."""
    with _sinks_guard:
        return [
            s
            for (root, uri), s in _sinks.items()
            if root == str(ws.root) and uri == ws.tracking_uri
        ]


def land_all(timeout: float) -> tuple[int, str | None]:
    """Wait until every record this process journaled is in MLflow (at most ``timeout``
    seconds; less when the agent says MLflow does not answer): records still queued, and why."""
    deadline = time.monotonic() + timeout
    with _sinks_guard:
        sinks = list(_sinks.values())
    pending, error = 0, None
    for sink in sinks:
        result = sink.flush_now(deadline)
        if result.pending:
            pending += result.pending
            error = error or queue_reason(sink.ws, result.error)
    return pending, error


def queue_reason(ws: Workspace, error: str | None) -> str:
    """Why records stay queued, in a few words (MLflow's own message is a paragraph)."""
    if error is None:
        return "the tracking server is slow to answer"
    if classify_text(error) == "down":
        return f"the tracking server {ws.tracking_uri} does not answer"
    return error if len(error) <= 200 else f"{error[:197]}..."


def stop_sinks(timeout: float = 10.0) -> None:
    """Flush and stop every sink of this process (atexit does it too)."""
    with _sinks_guard:
        sinks = list(_sinks.values())
        _sinks.clear()
    for sink in sinks:
        sink.stop(timeout)


class Sink:
    def __init__(self, ws: Workspace, box: Outbox) -> None:
        self.ws = ws
        self.box = box
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._computing = False  # a tracked cell computes: git waits for it to end
        self._computing_since = -GRACE_S  # when it started (or stopped) computing
        self._git_jobs: queue.SimpleQueue[tuple[str, Path, GitReader]] = queue.SimpleQueue()
        self._git_cache: tuple[float, dict[str, Any] | None] | None = None
        self._agent_checked = 0.0
        self.last_result = FlushResult()
        self._thread = threading.Thread(
            target=self._loop, name="jupyter-mlops-flusher", daemon=True
        )

    @classmethod
    def start(cls, ws: Workspace) -> Sink:
        """The process's journal for ``ws``. The agent is started by the first ``kick`` (a run
        that starts, ends or is waited for), not here; after a tracked cell, only once no cell
        has computed for ``GRACE_S`` (the next cell of a "run all" would share the cores with
        the agent's start), or once a cell has computed for ``QUIET_S``."""
        sink = cls(ws, Outbox.create(ws))
        sink._thread.start()
        atexit.register(sink.stop)
        return sink

    # -- called from the cell's thread ---------------------------------------------------------
    def kick(self, *, waiting: bool = False) -> None:
        """Records were journaled: make sure an agent runs (right after a tracked cell, the
        background thread does, once no cell followed). ``waiting``: someone waits for them
        now, so the agent serves them even while a tracked cell computes."""
        self._wake.set()
        if waiting or self._cells_resting():
            self._ensure_agent()
        if waiting:
            agent.wake(self.ws)

    def _cells_resting(self) -> bool:
        """No tracked cell computes, and none did in the last ``GRACE_S``."""
        return not self._computing and time.monotonic() - self._computing_since >= GRACE_S

    @property
    def computing_now(self) -> bool:
        return self._computing

    def computing(self, busy: bool) -> None:
        """Say that a tracked cell of this process starts (or stopped) computing: meanwhile the
        agent leaves the machine's cores to it (see ``journal.agent``), and is stopped outright
        if it is building a model or starting (see ``journal.pausing``)."""
        self._computing = busy
        self._computing_since = time.monotonic()
        try:
            if busy:
                self.box.busy_path.touch()
            else:
                self.box.busy_path.unlink(missing_ok=True)
        except OSError:
            pass
        if busy:
            agent.cell_starts(self.ws)
        else:
            agent.cell_ended(self.ws)
            self._wake.set()  # the git state the cell's run asked for is read now

    def _ensure_agent(self, force: bool = False) -> None:
        """Start the agent if none runs (a cheap flock probe, at most every AGENT_CHECK_S)."""
        now = time.monotonic()
        if force or now - self._agent_checked > AGENT_CHECK_S:
            self._agent_checked = now
            agent.ensure_running(self.ws)

    def request_git(self, run_key: str, root: Path, reader: GitReader) -> None:
        """Tag the run with the repository's state, read off the cell's path by ``reader``."""
        self._git_jobs.put((run_key, root, reader))
        self._wake.set()

    def flush_now(self, deadline: float | None = None) -> FlushResult:
        """Get this process's records into MLflow (until ``deadline``, a monotonic time)."""
        self._do_git_jobs()
        self.last_result = self._wait_for_agent(deadline)
        return self.last_result

    def _wait_for_agent(self, deadline: float | None) -> FlushResult:
        """Wait until the agent drained this journal, the deadline passed, or the agent said
        (after this call began) that MLflow is not answering."""
        began = time.time()
        failed_before = self.box.failed_count()
        pending = self.box.pending()
        if pending:
            agent.wake(self.ws)
        pause = 0.002
        error = None
        while pending and (deadline is None or time.monotonic() < deadline):
            self._ensure_agent()  # restarts an agent that was killed
            time.sleep(pause)
            pause = min(pause * 1.5, 0.05)
            pending = self.box.pending()
            stalled = agent.stalled(agent.read_status(self.ws), began)
            if pending and stalled:
                error = stalled  # callers that must wait longer loop (wait_run_id...)
                break
        failed = self.box.failed_count() - failed_before
        return FlushResult(pending=pending, failed=max(failed, 0), error=error if pending else None)

    def await_dataset(self, key: str, deadline: float) -> tuple[str, str | None, str | None] | None:
        """The landed version of a journaled registration (run id, snapshot run, file hash);
        None once the deadline passed, MLflow is said not to answer, or it refused the record."""
        began = time.time()
        self.kick(waiting=True)  # served even while a tracked cell computes
        pause = 0.002
        while time.monotonic() < deadline:
            landed = self.box.dataset(key)
            if landed is not None:
                return landed
            if not self.box.has_ops(key) or self.store_error(began):
                return self.box.dataset(key)
            self._ensure_agent()  # one that was killed or stopped is started again
            time.sleep(pause)
            pause = min(pause * 1.5, 0.05)
        return self.box.dataset(key)

    def store_error(self, since: float) -> str | None:
        """Why records do not land (MLflow unreachable...), if said after ``since`` (time.time)."""
        return agent.stalled(agent.read_status(self.ws), since)

    def stop(self, timeout: float = 10.0) -> None:
        if self._stop.is_set():
            return
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)
        try:
            result = self.flush_now(time.monotonic() + timeout)
            if result.pending:
                log.warning(
                    "jupyter-mlops: %d records stay queued in %s (%s); `jupyter-mlops sync` sends them",
                    result.pending,
                    self.box.path,
                    result.error,
                )
            if not self.box.remove_if_drained():
                self.box.close()
                self.box.lock.release()  # the agent (or the next sync) takes it over
            agent.cell_ended(self.ws)  # a process leaving mid-cell resumes the agent it stopped
        except Exception as exc:
            log.warning("jupyter-mlops: could not flush at exit: %s", exc)

    # -- background ----------------------------------------------------------------------------
    def _do_git_jobs(self) -> None:
        while True:
            try:
                run_key, root, git_state = self._git_jobs.get_nowait()
            except queue.Empty:
                return
            now = time.monotonic()
            if self._git_cache is None or now - self._git_cache[0] > 1.0:
                self._git_cache = (now, git_state(root))
            state = self._git_cache[1]
            if state is None:
                continue
            self.box.append(run_key, LogData(tags=git_tags(state)))
            if state["dirty"] and state["diff"]:
                self.box.append(run_key, LogText(state["diff"], "mlops/git.diff"))

    def _loop(self) -> None:
        """The agent replays; this thread only reads git state, off the cell's path, and not
        while a tracked cell computes (``git`` processes would share the cores with it)."""
        while not self._stop.is_set():
            resting_in = GRACE_S - (time.monotonic() - self._computing_since)
            self._wake.wait(IDLE_INTERVAL if resting_in <= 0 else min(resting_in, IDLE_INTERVAL))
            self._wake.clear()
            if self._computing:
                if time.monotonic() - self._computing_since > QUIET_S:
                    self._ensure_agent()  # a long cell: its progress may show meanwhile
                continue
            if self._cells_resting() and self.box.pending():
                self._ensure_agent()  # records of a cell that ended: the agent starts now
            try:
                self._do_git_jobs()
            except Exception as exc:
                log.warning("jupyter-mlops: could not read git state: %s", exc)


def git_tags(state: dict[str, Any]) -> dict[str, str]:
    """The run tags of a ``git_state`` (set by the sync thread, off the cell's path)."""
    tags = {
        GIT_SHA_TAG: state["sha"],
        "mlflow.source.git.commit": state["sha"],
        GIT_BRANCH_TAG: state["branch"],
        "mlflow.source.git.branch": state["branch"],
        GIT_DIRTY_TAG: str(state["dirty"]).lower(),
    }
    if state["remote"]:
        tags["mlflow.source.git.repoURL"] = state["remote"]
    if state.get("redacted"):  # the reader passed the diff through the redactor
        tags[REDACTED_DIFF_TAG] = str(state["redacted"])
    return tags
