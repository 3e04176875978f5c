"""The sync agent: one process per workspace (and tracking URI) that replays every journal.

Kernels, papermill runs and build steps only append to their journal and stage bytes (a pickled
estimator with its input example); they never import MLflow for tracking. This process does the
MLflow work for all of them: it builds MLmodel folders (signature, input example, pinned
requirements) from the staged estimators, uploads, and replays every record exactly once through
``replay.Replayer``'s idempotent steps.

- Single instance: the agent holds ``.mlops/locks/agent-<uri hash>.lock`` (flock) while it runs;
  a second one exits at once. Whoever holds that lock is the only replayer of live journals, so
  two replayers never race on one journal.
- Started on demand: the first tracked record of a process calls ``ensure_running``, which spawns
  ``python -m jupyter_mlops.journal.agent ROOT --tracking-uri URI`` detached (its own session).
- Wakes on writes: it polls the journals' WAL files (a ``stat`` each, every 20 ms while records
  come in, every 100 ms after 2 s without any), so a cell's records reach MLflow within tens of
  milliseconds; several kernels' journals are replayed in one pass.
- Dead kernels: a journal whose flock is free belongs to a dead process. It is replayed at once,
  its open runs marked FAILED, and removed once drained.
- Acknowledgement is the journal itself: a record leaves ``ops`` only after MLflow confirmed it,
  so a kernel waits for its own records (``Sink.flush_now``) by watching its journal drain.
- Out of the way of the user's work: it runs at the lowest CPU priority (Linux's
  ``SCHED_IDLE``, else ``nice`` 10), and while tracked cells compute (a process marks its
  journal ``.busy`` during each; cells of a "run all" follow each other within ``GRACE_S``) it
  does nothing for the first ``QUIET_S`` seconds, then sends only small records (the run, its
  params and metrics: a long cell's progress shows in MLflow) and keeps the large ones (models,
  files, dataset snapshots) for when the cells have ended; a cell that starts during a pass
  holds the records after the one in hand. Where the agent holds nothing (its start and
  imports, a model's build) a starting cell stops it outright (``pausing``). A multithreaded fit
  (BLAS, LightGBM) then has the cores to itself. Anyone waiting for records (``%mlops sync``, a
  build's run id, a query, a cell run by papermill) wakes it and is served at once.
- MLflow is imported when the first records come, never while a tracked cell computes: a module
  at a time, stopping between two when a cell starts.
- Events out: an ``event`` record is handed to the webhook delivery queue when its turn comes,
  and ``webhooks.WebhookDispatcher`` delivers it on a thread per receiver, so a slow receiver
  never holds the replay; the agent stays up while deliveries wait.
- Stops after ``MLOPS_AGENT_IDLE`` seconds (default 300) with nothing to send, or on SIGTERM
  (``jupyter-mlops agent stop``). A kill -9 loses nothing: the journals are on disk and the next
  tracked record starts a new agent, whose replay resumes from the recorded steps.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from ..locks import FileLock
from ..store.client import client_for
from ..workspace import Workspace
from .agent_control import (
    GRACE_S,
    QUIET_S,
    agent_lock,
    status_path,
    stop_mark_path,
    wake_path,
)
from .outbox import Outbox
from .pausing import StopMark, computing_since
from .priority import background_priority, lowered
from .recovery import recover
from .replay import FlushResult, Replayer
from .webhooks import WebhookDispatcher

POLL_S = 0.02  # how often the journals are looked at while records come in
RESTING_POLL_S = 0.1  # ... after LIVELY_S without any, or while cells compute
LIVELY_S = 2.0
BACKOFF_MAX_S = 5.0
DEFERRED_RECHECK_S = 1.0  # large records kept for later: look again this often

# what a tracked cell computing somewhere asks of the agent: nothing at all, or small records only
PAUSE, SMALL_ONLY = "pause", "small-only"


class Agent:
    """The replay loop. ``client`` replaces the workspace's MlflowClient (tests inject faults)."""

    def __init__(self, ws: Workspace, client: Any = None, idle: float | None = None) -> None:
        self.ws = ws
        self.client = client
        self.idle = idle if idle is not None else ws.settings.agent_idle
        self.lock = agent_lock(ws)
        self._replayers: dict[Path, Replayer] = {}
        self._stopping = False
        self.last = FlushResult()
        self._warm_steps: list[WarmStep] = [] if client is not None else warm_up_steps(ws)
        self._quiet_began: float | None = None  # since when the agent has kept quiet for cells
        self._busy_seen = 0.0  # when a computing cell was last seen (time.time)
        self.webhooks = WebhookDispatcher(ws)  # delivers events on threads of its own
        # set when this process is the agent (``main``): it may then be stopped by a cell that
        # starts while it is in a stretch that holds nothing (see ``pausing``)
        self.stop_mark = StopMark()

    def run(self) -> int:
        if not self.lock.acquire(blocking=False):
            self.stop_mark.leave()
            return 0  # another agent serves this workspace
        signal.signal(signal.SIGTERM, self._on_term)
        try:
            self._loop()
        finally:
            self.webhooks.stop()
            for replayer in self._replayers.values():
                replayer.box.close()
            self.lock.release()
        return 0

    def _on_term(self, *_: Any) -> None:
        self._stopping = True

    def _journals(self) -> list[Path]:
        folder = self.ws.state_dir / "outbox"
        return sorted(folder.glob("*.db")) if folder.is_dir() else []

    def _fingerprint(self, journals: list[Path]) -> tuple[tuple[str, str, int, int], ...]:
        marks = []
        for db in journals:
            for suffix in ("", "-wal"):
                try:
                    st = os.stat(f"{db}{suffix}")
                    marks.append((str(db), suffix, st.st_mtime_ns, st.st_size))
                except OSError:
                    pass
        return tuple(marks)

    def _wake_mark(self) -> int:
        try:
            return os.stat(wake_path(self.ws)).st_mtime_ns
        except OSError:
            return 0

    def _loop(self) -> None:
        seen: tuple[Any, ...] | None = None
        last_work = time.monotonic()
        backoff_until = 0.0
        backoff = 0.5
        woken = self._wake_mark()
        lively_until = 0.0  # poll fast until then: records came in a moment ago
        while not self._stopping and self.ws.state_dir.is_dir():
            if self._wake_mark() != woken:
                woken = self._wake_mark()
                backoff_until, seen = 0.0, None
            journals = self._journals()
            yielding = self._yielding(woken)
            if yielding == PAUSE:
                last_work = time.monotonic()  # waiting for a cell is not being idle
                time.sleep(RESTING_POLL_S)
                continue
            mark = (self._fingerprint(journals), yielding)
            now = time.monotonic()
            if mark != seen:
                lively_until = now + LIVELY_S
            if (mark != seen or self.last.pending) and now >= backoff_until:
                if not self._warm_up(woken):
                    continue  # a cell began computing meanwhile: the rest of it waits
                self.stop_mark.leave()
                self.last = self.replay_pass(
                    hold_large=partial(self._cell_computing, woken),
                    hold_all=partial(self._cell_wants_quiet, woken),
                )
                self.webhooks.poke()  # events the pass handed over go out now
                seen = (self._fingerprint(self._journals()), self._yielding(woken))
                self._write_status()
                if self.last.sent or self.last.pending:
                    last_work = time.monotonic()
                backoff_until, backoff = self._next_pass(backoff)
                continue
            if now - last_work > self.idle and not self.last.pending and not self.webhooks.busy():
                return  # nothing to send for a while: the next tracked record restarts us
            time.sleep(POLL_S if now < lively_until else RESTING_POLL_S)

    def _warm_up(self, woken: int) -> bool:
        """Import MLflow (and open the store) before the first pass, a module at a time, and
        stop between two as soon as a tracked cell computes: about 1.5 s of CPU that would
        otherwise land in one piece in the cells right after the agent started. True once done."""
        while self._warm_steps:
            if self._cell_computing(woken):
                return False
            step, holds_nothing = self._warm_steps.pop(0)
            if holds_nothing:
                self.stop_mark.enter()  # an import holds nothing a cell's process waits for
            else:
                self.stop_mark.leave()  # opening the store does
            try:
                step()
            except Exception:  # a warm-up is a courtesy: the record that needs it will say
                pass
        return True

    def _next_pass(self, backoff: float) -> tuple[float, float]:
        """When to pass again after ``self.last`` (and the backoff after that)."""
        now = time.monotonic()
        progressed = self.last.sent or self.last.steps
        if self.last.error and self.last.pending and not progressed:
            return now + backoff, min(backoff * 2, BACKOFF_MAX_S)  # no progress: back off
        if self.last.error and self.last.pending:
            return now + POLL_S * 5, 0.5  # a passing error: soon again
        if self.last.deferred:
            return now + DEFERRED_RECHECK_S, 0.5  # large records wait for the cell to end
        return 0.0, 0.5

    def _cell_computing(self, woken: int) -> bool:
        """Whether a tracked cell computes now (asked before each large record of a pass)."""
        return self._yielding(woken) is not None

    def _cell_wants_quiet(self, woken: int) -> bool:
        """Whether a tracked cell computing now wants nothing sent at all (asked before each
        record of a pass: one that began during the pass gets the cores from the next record)."""
        return self._yielding(woken) == PAUSE

    def _yielding(self, woken: int) -> str | None:
        """What the user's work asks of the agent now: PAUSE while tracked cells have kept the
        cores busy (in a row, gaps under ``GRACE_S`` included: "run all") for less than
        ``QUIET_S``, SMALL_ONLY after that, None once they stopped, or when someone woke the
        agent since (a wait for records is served at once)."""
        now = time.time()
        since = computing_since(self.ws.state_dir / "outbox")
        if since is not None:
            self._busy_seen = now
            # a wait in the same clock tick as the cell's start is served too (file times are
            # coarse: a few milliseconds)
            serve = woken / 1e9 >= since
            if not serve and self._quiet_began is None:
                self._quiet_began = since
        else:  # no cell computes: serve unless one did a moment ago (and nobody woke us since)
            serve = now - self._busy_seen >= GRACE_S or woken / 1e9 > self._busy_seen
        if serve or self._quiet_began is None:
            self._quiet_began = None
            return None
        return PAUSE if now - self._quiet_began < QUIET_S else SMALL_ONLY

    def replay_pass(
        self,
        deadline: float | None = None,
        hold_large: Callable[[], bool] | None = None,
        hold_all: Callable[[], bool] | None = None,
    ) -> FlushResult:
        """One pass over every journal: dead processes' first (then removed), then live ones.
        Large records (models, files, snapshots) wait for a later pass while ``hold_large()``,
        live journals' records while ``hold_all()`` (a cell began computing during the pass)."""
        total = recover(
            self.ws, deadline=deadline, client=self.client, as_agent=True, hold_large=hold_large
        )
        for db in self._journals():
            if self._stopping:
                break
            if FileLock(db.with_suffix(".lock")).is_free():
                continue  # its process died after recover looked: the next pass lands it
            total.add(self._replayer(db).flush(deadline, hold_large=hold_large, hold_all=hold_all))
        for db in [db for db in self._replayers if not db.exists()]:
            self._replayers.pop(db).box.close()  # its process removed it, drained
        return total

    def _replayer(self, db: Path) -> Replayer:
        replayer = self._replayers.get(db)
        if replayer is None:
            box = Outbox(db, FileLock(db.with_suffix(".lock")))  # the owner keeps its lock
            replayer = Replayer(self.ws, box, self.client, stoppable=self.stop_mark)
            self._replayers[db] = replayer
        return replayer

    def _write_status(self) -> None:
        state = {
            "pid": os.getpid(),
            "last_pass": time.time(),
            "pending": self.last.pending,
            "failed": self.last.failed,
            "progressed": bool(self.last.sent or self.last.steps),
            "error": self.last.error,
        }
        path = status_path(self.ws)
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        try:
            tmp.write_text(json.dumps(state))
            tmp.replace(path)
        except OSError:
            pass


# a warm-up step, and whether it holds nothing another process may wait for (an import)
WarmStep = tuple[Callable[[], Any], bool]


def warm_up_steps(ws: Workspace) -> list[WarmStep]:
    """What the first records need, a piece at a time (see ``Agent._warm_up``)."""
    modules = ["mlflow", "mlflow.entities", "mlflow.tracking", "mlflow.models", "mlflow.pyfunc"]
    if ws.tracking_uri.startswith("sqlite:"):  # the embedded store: its SQL layer is most of it
        modules += [
            "mlflow.store.tracking.sqlalchemy_store",
            "mlflow.store.model_registry.sqlalchemy_store",
        ]
    else:
        modules += ["mlflow.store.tracking.rest_store"]
    imports: list[WarmStep] = [(partial(importlib.import_module, m), True) for m in modules]
    return [*imports, (partial(client_for, ws), False)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jupyter_mlops.journal.agent")
    parser.add_argument("root", help="the workspace's root folder")
    parser.add_argument("--tracking-uri", required=True)
    parser.add_argument("--stop-mark", help=argparse.SUPPRESS)  # written by spawn's first lines
    args = parser.parse_args(argv)
    ws = Workspace(root=Path(args.root).resolve(), _tracking_uri=args.tracking_uri)
    if not lowered():
        background_priority()  # started by hand, not by spawn(), which lowered it first
    agent = Agent(ws)
    agent.stop_mark = StopMark(stop_mark_path(ws))
    return agent.run()


if __name__ == "__main__":
    code = main()
    # no interpreter teardown: with MLflow loaded it costs about half a second of CPU, which a
    # cell that starts right after an idle stop would share the cores with; everything the agent
    # opened is closed by now
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
