"""The process's half of tracking: its journal, and who empties it into MLflow.

By default (``MLOPS_SYNC=agent``) the process never talks to MLflow for tracking: it appends to
its journal and the workspace's sync agent (``journal.agent``, a separate process started on
demand) replays it. Waiting for one's own records (``flush_now``: ``%mlops sync``,
``wait_synced``, read-your-own-writes before a query) means watching the journal drain, since the
agent deletes a record only once MLflow confirmed it.

``MLOPS_SYNC=inprocess`` keeps the older design, for comparison and for hosts that cannot start
processes: a background thread of this process imports MLflow and replays its own journal (named
``*-self.db`` so that an agent leaves it alone while the process lives).

A small thread reads git state off the cell's path in both modes.
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

from ..store.client import client_for
from ..tags import GIT_BRANCH_TAG, GIT_DIRTY_TAG, GIT_SHA_TAG, REDACTED_DIFF_TAG
from ..workspace import Workspace
from . import agent_control as agent
from .outbox import Outbox
from .replay import FlushResult, Replayer, recover

log = logging.getLogger("jupyter_mlops")

IDLE_INTERVAL = 0.5
MAX_BACKOFF = 30.0
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


def stop_sinks(timeout: float = 10.0) -> None:
    """Flush and stop every sink of this process (atexit does it too)."""
    with _sinks_guard:
        sinks = list(_sinks.values())
        _sinks.clear()
    for sink in sinks:
        sink.stop(timeout)


def _import_on_this_thread(ws: Workspace) -> None:
    """Import MLflow (and open its store) on the caller's thread, once, before the flusher starts.

    Importing a package this size from two threads at once can deadlock Python's import locks
    and leave modules half-initialised; a user cell running ``import mlflow`` while our thread
    does the same would hit exactly that. So the first tracked cell pays the import (about
    1.5 s, once per kernel) and the background thread only ever finds modules already loaded.
    """
    import mlflow
    import mlflow.artifacts  # noqa: F401
    from mlflow.entities import Dataset, LoggedModelOutput, Metric  # noqa: F401
    from mlflow.models import Model  # noqa: F401

    client = client_for(ws)
    if not ws.tracking_uri.startswith(("http://", "https://")):
        _ = client._tracking_client.store  # builds the SQLAlchemy store and its imports now


class Sink:
    def __init__(self, ws: Workspace, box: Outbox, *, in_process: bool) -> None:
        self.ws = ws
        self.box = box
        self.in_process = in_process
        self.replayer = Replayer(ws, box) if in_process else None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._git_jobs: queue.SimpleQueue[tuple[str, Path, GitReader]] = queue.SimpleQueue()
        self._git_cache: tuple[float, dict[str, Any] | None] | None = None
        self._agent_checked = 0.0
        self.last_result = FlushResult()
        self.recovered = FlushResult()
        self._thread = threading.Thread(
            target=self._loop, name="jupyter-mlops-flusher", daemon=True
        )

    @classmethod
    def start(cls, ws: Workspace, in_process: bool | None = None) -> Sink:
        if in_process is None:
            in_process = ws.settings.sync == "inprocess"
        if in_process:
            _import_on_this_thread(ws)
        sink = cls(ws, Outbox.create(ws, self_replayed=in_process), in_process=in_process)
        if not in_process:
            sink._ensure_agent(force=True)
        sink._thread.start()
        atexit.register(sink.stop)
        return sink

    # -- called from the cell's thread ---------------------------------------------------------
    def kick(self) -> None:
        self._wake.set()
        if not self.in_process:
            self._ensure_agent()

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
        if self.replayer is not None:
            self.last_result = self.replayer.flush(deadline)
        else:
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
            state = agent.read_status(self.ws)
            if pending and state.get("error") and state.get("last_pass", 0) > began:
                error = state["error"]  # callers that must wait longer loop (wait_run_id...)
                break
        failed = self.box.failed_count() - failed_before
        return FlushResult(pending=pending, failed=max(failed, 0), error=error if pending else None)

    def await_dataset(self, key: str, deadline: float) -> tuple[str, str | None, str | None] | None:
        """The landed version of a journaled registration (run id, snapshot run, file hash);
        None once the deadline passed, MLflow is said not to answer, or it refused the record."""
        began = time.time()
        if self.in_process:
            self._wake.set()
        else:
            agent.wake(self.ws)
        pause = 0.002
        while time.monotonic() < deadline:
            landed = self.box.dataset(key)
            if landed is not None:
                return landed
            if not self.box.has_ops(key) or self.store_error(began):
                return self.box.dataset(key)
            self.kick()
            time.sleep(pause)
            pause = min(pause * 1.5, 0.05)
        return self.box.dataset(key)

    def store_error(self, since: float) -> str | None:
        """Why records do not land (MLflow unreachable...), if said after ``since`` (time.time)."""
        if self.replayer is not None:
            return self.last_result.error
        state = agent.read_status(self.ws)
        return state.get("error") if state.get("last_pass", 0) > since else None

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
            self.box.append(run_key, "data", {"tags": git_tags(state)})
            if state["dirty"] and state["diff"]:
                self.box.append(
                    run_key, "text", {"text": state["diff"], "artifact_file": "mlops/git.diff"}
                )

    def _loop(self) -> None:
        if self.replayer is None:  # the agent replays: only git state is read here
            while not self._stop.is_set():
                self._wake.wait(IDLE_INTERVAL)
                self._wake.clear()
                try:
                    self._do_git_jobs()
                except Exception as exc:
                    log.warning("jupyter-mlops: could not read git state: %s", exc)
            return
        self._replay_loop()

    def _replay_loop(self) -> None:
        try:
            import mlflow  # noqa: F401 - warm the 1.4 s import off the cell's path
            from mlflow.entities import Metric  # noqa: F401
        except Exception as exc:
            log.warning("jupyter-mlops: cannot import mlflow: %s", exc)
            return
        try:
            self.recovered = recover(self.ws, exclude=self.box)
        except Exception as exc:
            log.warning("jupyter-mlops: could not replay journals of dead processes: %s", exc)
        backoff = IDLE_INTERVAL
        while not self._stop.is_set():
            self._wake.wait(backoff)
            self._wake.clear()
            if self._stop.is_set():
                break
            try:
                result = self.flush_now()
            except Exception as exc:
                log.warning("jupyter-mlops: flush failed: %s", exc)
                result = FlushResult(error=str(exc))
            if result.error and result.pending:
                backoff = min(max(backoff * 2, 1.0), MAX_BACKOFF)
            else:
                backoff = IDLE_INTERVAL


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
