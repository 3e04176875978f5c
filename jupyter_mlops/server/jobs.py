"""Long work started from the panel (builds, gate validations) as jobs polled by the browser.

A build takes minutes and a validation seconds to minutes: a request cannot wait for either, and
neither may run on Tornado's event loop. A job runs in a small pool of its own (so long jobs never
starve the pool that answers reads), and keeps what the panel shows: status, progress, a log per
step, and the result or the error (message and hint, never a traceback).
"""

from __future__ import annotations

import itertools
import logging
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

from ..errors import Busy, Conflict, MlopsError, NotFound
from . import contract

JOB_WORKERS = 2
MAX_ACTIVE_JOBS = 8  # queued or running; one more is refused (429) instead of queued forever
KEEP_FINISHED = 50
MAX_LOG_LINES = 2000
ACTIVE = ("queued", "running", "cancelling")

log = logging.getLogger("jupyter_mlops")


class Job:
    """One unit of long work; every mutation goes through its lock (read by request threads)."""

    def __init__(self, kind: contract.JobKind, title: str, owner: str | None = None) -> None:
        self.id = secrets.token_hex(8)
        self.kind = kind
        self.title = title
        self.owner = owner
        self.status: contract.JobStatus = "queued"
        self.created = time.time()
        self.started: float | None = None
        self.finished: float | None = None
        self.done = 0
        self.total: int | None = None
        self.steps: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self.log: list[str] = []
        self.result: Any = None
        self.error: contract.ErrorResponse | None = None
        self.on_cancel: Callable[[], None] | None = None
        self._lock = threading.Lock()
        self._seq = itertools.count()

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    def add_line(self, line: str, step: str | None = None) -> None:
        with self._lock:
            self.log.append(line)
            del self.log[:-MAX_LOG_LINES]
            if step is not None:
                entry = self.steps.setdefault(step, {"status": "pending", "log": []})
                entry["log"].append(line)
                del entry["log"][:-MAX_LOG_LINES]

    def set_step(self, step: str, status: str, **extra: Any) -> None:
        with self._lock:
            entry = self.steps.setdefault(step, {"status": "pending", "log": []})
            entry["status"] = status
            entry.update({k: v for k, v in extra.items() if v is not None})

    def set_progress(self, done: int, total: int | None) -> None:
        with self._lock:
            self.done, self.total = done, total

    def to_dict(self, *, with_log: bool = True) -> contract.Job:
        """The job as the REST answers show it (``log`` left out of lists)."""
        with self._lock:
            body: contract.Job = {
                "id": self.id,
                "kind": self.kind,
                "title": self.title,
                "owner": self.owner,
                "status": self.status,
                "created": self.created,
                "started": self.started,
                "finished": self.finished,
                "progress": {"done": self.done, "total": self.total},
                "steps": [
                    cast(
                        contract.JobStep,
                        {"name": n, **{k: v for k, v in s.items() if with_log or k != "log"}},
                    )
                    for n, s in self.steps.items()
                ],
                "result": self.result,
                "error": self.error,
            }
            if with_log:
                body["log"] = list(self.log)
            return body


class JobRegistry:
    """The jobs of one server: started, listed, looked up and cancelled by id."""

    def __init__(self, workers: int = JOB_WORKERS, max_active: int = MAX_ACTIVE_JOBS) -> None:
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self._workers = workers
        self._max_active = max_active
        self._executor: ThreadPoolExecutor | None = None

    def _pool(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(
                self._workers, thread_name_prefix="jupyter-mlops-job"
            )
        return self._executor

    def submit(
        self,
        kind: contract.JobKind,
        title: str,
        work: Callable[[Job], Any],
        *,
        owner: str | None = None,
        exclusive: bool = False,
    ) -> Job:
        """Queue ``work(job)``; ``exclusive`` refuses a second active job of the same kind."""
        job = Job(kind, title, owner)
        with self._lock:
            if exclusive:
                running = [j for j in self._jobs.values() if j.kind == kind and j.active]
                if running:
                    raise Conflict(
                        f"a {kind} is already running ({running[0].id})",
                        hint="wait for it to finish, or cancel it",
                    )
            active = sum(1 for j in self._jobs.values() if j.active)
            if active >= self._max_active:
                raise Busy(
                    f"{active} jobs are already queued or running",
                    hint="retry when one has finished",
                )
            self._jobs[job.id] = job
            finished = [j.id for j in self._jobs.values() if not j.active]
            for old in finished[: max(0, len(finished) - KEEP_FINISHED)]:
                del self._jobs[old]
            self._pool().submit(self._run, job, work)
        return job

    @staticmethod
    def _run(job: Job, work: Callable[[Job], Any]) -> None:
        with job._lock:
            if job.status == "cancelling":
                job.status, job.finished = "cancelled", time.time()
                return
            job.status, job.started = "running", time.time()
        outcome: contract.JobStatus
        error: contract.ErrorResponse | None = None
        try:
            result = work(job)
        except MlopsError as exc:
            outcome, error, result = "failed", {"error": exc.message, "hint": exc.hint}, None
        except Exception:  # the caller gets an error id; the traceback stays in the server log
            error_id = secrets.token_hex(6)
            log.exception("error %s: job %s (%s) failed", error_id, job.id, job.kind)
            outcome, result = "failed", None
            error = {
                "error": f"{job.kind} failed (error id {error_id})",
                "hint": "see the Jupyter server log for details",
                "error_id": error_id,
            }
        else:
            outcome, error = "succeeded", None
        with job._lock:
            now: contract.JobStatus = job.status  # a cancel may have come in while it ran
            if now == "cancelling" or isinstance(result, dict) and result.get("cancelled"):
                outcome = "cancelled"
            job.status, job.result, job.error, job.finished = outcome, result, error, time.time()

    def get(self, job_id: str, kind: str | None = None) -> Job:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None or (kind is not None and job.kind != kind):
            raise NotFound(
                f"no {kind or 'job'} {job_id!r}",
                hint="jobs are kept in the server's memory until it restarts",
            )
        return job

    def list(self, kind: str | None = None) -> list[Job]:
        with self._lock:
            jobs = list(self._jobs.values())
        return [j for j in reversed(jobs) if kind is None or j.kind == kind]

    def cancel(self, job_id: str, kind: str | None = None) -> Job:
        job = self.get(job_id, kind)
        with job._lock:
            if not job.active:
                raise Conflict(f"{job.kind} {job.id} has already {job.status}")
            if job.on_cancel is None and job.status == "running":
                raise Conflict(f"a running {job.kind} cannot be cancelled")
            job.status = "cancelling"
            hook = job.on_cancel
        if hook is not None:
            hook()
        return job

    def shutdown(self) -> None:
        for job in self.list():
            if job.active and job.on_cancel is not None:
                try:
                    job.on_cancel()
                except Exception:
                    pass
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
