"""Parallel local execution: a bounded pool of threads, each driving one kernel through papermill.

Threads suffice because the work happens in the kernels (separate processes); the threads only
wait on ZeroMQ. Each kernel's BLAS is pinned to one thread (see runner.BLAS_PINS), since unpinned
parallel kernels oversubscribe the cores and run slower than sequential ones.
"""

from __future__ import annotations

import os
import signal
import threading
from concurrent.futures import Future, ThreadPoolExecutor

from .notebook_task import NotebookResult, NotebookTask, run_notebook_task
from .running_kernels import signal_kernel


class LocalExecutor:
    name = "local"

    def __init__(self, jobs: int | None = None) -> None:
        self.jobs = max(1, jobs or min(os.cpu_count() or 1, 4))
        self._pool = ThreadPoolExecutor(self.jobs, thread_name_prefix="mlops-step")
        self._stop = threading.Event()

    def submit(self, task: NotebookTask) -> Future[NotebookResult]:
        return self._pool.submit(run_notebook_task, task, self._stop)

    def kill(self, task_id: str) -> bool:
        return signal_kernel(task_id, signal.SIGKILL)

    def stop_all(self, task_ids: list[str]) -> None:
        """Ctrl-C: no new work, and the running kernels are killed so their threads return."""
        self._stop.set()
        for task_id in task_ids:
            self.kill(task_id)

    def shutdown(self, wait: bool = True) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=True)
