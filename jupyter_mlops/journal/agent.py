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
- Wakes on writes: it polls the journals' WAL files (a ``stat`` each, every 20 ms), so a cell's
  records reach MLflow within tens of milliseconds; several kernels' journals are replayed in one
  pass.
- Dead kernels: a journal whose flock is free belongs to a dead process. It is replayed at once,
  its open runs marked FAILED, and removed once drained.
- Acknowledgement is the journal itself: a record leaves ``ops`` only after MLflow confirmed it,
  so a kernel waits for its own records (``Sink.flush_now``) by watching its journal drain.
- Events out: an ``event`` record is handed to the webhook delivery queue when its turn comes,
  and ``webhooks.WebhookDispatcher`` delivers it on a thread per receiver, so a slow receiver
  never holds the replay; the agent stays up while deliveries wait.
- Stops after ``MLOPS_AGENT_IDLE`` seconds (default 30) with nothing to send, or on SIGTERM
  (``jupyter-mlops agent stop``). A kill -9 loses nothing: the journals are on disk and the next
  tracked record starts a new agent, whose replay resumes from the recorded steps.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from ..locks import FileLock
from ..workspace import Workspace
from .agent_control import (
    agent_lock,
    status_path,
    wake_path,
)
from .outbox import SELF_REPLAYED, Outbox
from .replay import FlushResult, Replayer, recover
from .webhooks import WebhookDispatcher

POLL_S = 0.02
BACKOFF_MAX_S = 5.0


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
        self.webhooks = WebhookDispatcher(ws)  # delivers events on threads of its own

    def run(self) -> int:
        if not self.lock.acquire(blocking=False):
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
        seen: tuple[tuple[str, str, int, int], ...] | None = None
        last_work = time.monotonic()
        backoff_until = 0.0
        backoff = 0.5
        woken = self._wake_mark()
        while not self._stopping and self.ws.state_dir.is_dir():
            if self._wake_mark() != woken:
                woken = self._wake_mark()
                backoff_until, seen = 0.0, None
            mark = self._fingerprint(self._journals())
            now = time.monotonic()
            if (mark != seen or self.last.pending) and now >= backoff_until:
                self.last = self.replay_pass()
                self.webhooks.poke()  # events the pass handed over go out now
                seen = self._fingerprint(self._journals())
                self._write_status()
                if self.last.sent or self.last.pending:
                    last_work = time.monotonic()
                if self.last.error and self.last.pending and not self.last.sent:
                    backoff_until = time.monotonic() + backoff  # no progress: back off
                    backoff = min(backoff * 2, BACKOFF_MAX_S)
                elif self.last.error and self.last.pending:
                    backoff_until = time.monotonic() + POLL_S * 5  # a passing error: soon again
                else:
                    backoff = 0.5
                continue
            if now - last_work > self.idle and not self.last.pending and not self.webhooks.busy():
                return  # nothing to send for a while: the next tracked record restarts us
            time.sleep(POLL_S)

    def replay_pass(self, deadline: float | None = None) -> FlushResult:
        """One pass over every journal: dead processes' first (then removed), then live ones."""
        total = recover(self.ws, deadline=deadline, client=self.client, as_agent=True)
        for db in self._journals():
            if self._stopping:
                break
            if db.stem.endswith(SELF_REPLAYED) or FileLock(db.with_suffix(".lock")).is_free():
                continue  # replayed by its live process; or it died after recover looked
            total.add(self._replayer(db).flush(deadline))
        for db in [db for db in self._replayers if not db.exists()]:
            self._replayers.pop(db).box.close()  # its process removed it, drained
        return total

    def _replayer(self, db: Path) -> Replayer:
        replayer = self._replayers.get(db)
        if replayer is None:
            box = Outbox(db, FileLock(db.with_suffix(".lock")))  # the owner keeps its lock
            replayer = self._replayers[db] = Replayer(self.ws, box, self.client)
        return replayer

    def _write_status(self) -> None:
        state = {
            "pid": os.getpid(),
            "last_pass": time.time(),
            "pending": self.last.pending,
            "failed": self.last.failed,
            "error": self.last.error,
        }
        path = status_path(self.ws)
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        try:
            tmp.write_text(json.dumps(state))
            tmp.replace(path)
        except OSError:
            pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jupyter_mlops.journal.agent")
    parser.add_argument("root", help="the workspace's root folder")
    parser.add_argument("--tracking-uri", required=True)
    args = parser.parse_args(argv)
    ws = Workspace(root=Path(args.root).resolve(), _tracking_uri=args.tracking_uri)
    return Agent(ws).run()


if __name__ == "__main__":
    sys.exit(main())
