"""Dask distributed execution: steps and trials as tasks on an existing cluster (or a local one).

Workers must see the project folder at the same path (a shared filesystem, or the same machine)
and have jupyter-mlops and the kernel installed. Results come back with the executed notebook, so
the build process records every run and writes every file.
"""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import replace
from typing import Any

from ..errors import InvalidInput, StoreUnavailable
from .notebook_task import NotebookResult, NotebookTask, run_notebook_task


class DaskExecutor:
    name = "dask"

    def __init__(self, scheduler: str | None = None, jobs: int | None = None) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise InvalidInput(
                "the dask executor needs dask.distributed",
                hint="pip install 'jupyter-mlops[dask]'",
            ) from None
        self._cluster = None
        if scheduler:
            try:
                self.client = Client(scheduler, timeout=10)
            except OSError as exc:
                raise StoreUnavailable(
                    f"cannot reach the Dask scheduler at {scheduler}: {exc}",
                    hint="start it with `dask scheduler`, or use --executor local",
                ) from None
        else:
            self._cluster = LocalCluster(
                n_workers=jobs or 2,
                threads_per_worker=1,
                dashboard_address=None,
                processes=True,
            )
            self.client = Client(self._cluster)
        threads = sum(self.client.nthreads().values()) or 1
        self.jobs = jobs or threads
        self._futures: dict[str, Any] = {}

    def submit(self, task: NotebookTask) -> Future[NotebookResult]:
        if task.env_hook is not None:  # a closure does not travel: resolve it here
            task = replace(task, env={**task.env, **task.env_hook()}, env_hook=None)
        result: Future[NotebookResult] = Future()
        dask_future = self.client.submit(
            run_notebook_task, task, pure=False, key=f"mlops-{task.task_id}"
        )
        self._futures[task.task_id] = dask_future

        def done(fut: Any) -> None:
            self._futures.pop(task.task_id, None)
            try:
                result.set_result(fut.result())
            except BaseException as exc:
                result.set_exception(exc)

        dask_future.add_done_callback(done)
        return result

    def kill(self, task_id: str) -> bool:
        future = self._futures.get(task_id)
        if future is None:
            return False
        future.cancel()
        return True

    def stop_all(self, task_ids: list[str]) -> None:
        for task_id in task_ids:
            self.kill(task_id)

    def shutdown(self, wait: bool = True) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()
