"""``papermill --engine mlops``: papermill's own engine, plus tracking and a sturdier kernel start.

Execution is papermill's NBClientEngine unchanged, so errors, exit codes, ``sys.exit`` handling,
parameters, report mode and the output notebook are exactly papermill's. On top of it:

- a standalone run (``papermill --engine mlops in.ipynb out.ipynb -p ...``) is recorded as an
  MLflow run (kind ``step``) with the injected parameters, per-cell timings, the status, the
  failing cell and the executed notebook; a tracking failure only logs a warning;
- the kernel gets ``MLOPS_*`` variables (its own tracked cells become children of that run) and,
  in pipelines, BLAS pinned to one thread;
- a kernel that dies while starting (the port-clash race of parallel starts) is started again.

This module is loaded by papermill at import through the ``papermill.engine`` entry point, so it
imports nothing heavy at module level.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from typing import Any

from nbclient.util import run_sync
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine
from papermill.utils import merge_kwargs, remove_args

log = logging.getLogger("jupyter_mlops.engine")

KERNEL_START_ATTEMPTS = 3
_ACTIVE: dict[str, MlopsNotebookClient] = {}
_active_guard = threading.Lock()


class MlopsNotebookClient(PapermillNotebookClient):
    """papermill's client with an explicit kernel environment and retried kernel starts."""

    def __init__(
        self,
        nb_man: Any,
        kernel_env: dict[str, str] | None = None,
        task_id: str | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(nb_man, **kw)
        self.kernel_env = kernel_env
        self.task_id = task_id

    async def async_start_new_kernel(self, **kwargs: Any) -> None:
        if self.kernel_env:
            kwargs["env"] = {**os.environ, **self.kernel_env}
        error: BaseException | None = None
        for attempt in range(KERNEL_START_ATTEMPTS):
            if self.km is None:
                self.km = self.create_kernel_manager()
            try:
                await super().async_start_new_kernel(**kwargs)
                await self.async_start_new_kernel_client()
            except (RuntimeError, TimeoutError, OSError) as exc:
                # a kernel that died before answering: usually a port taken between choice and bind
                error = exc
                log.warning("kernel start failed (attempt %d): %s", attempt + 1, exc)
                await self._reset_failed_start()
                time.sleep(0.1 * (attempt + 1))
                continue
            if self.task_id:
                with _active_guard:
                    _ACTIVE[self.task_id] = self
            return
        assert error is not None
        raise error

    start_new_kernel = run_sync(async_start_new_kernel)

    async def _reset_failed_start(self) -> None:
        from nbclient.util import ensure_async

        km, self.km, self.kc = self.km, None, None
        if km is None:
            return
        try:
            if await ensure_async(km.is_alive()):
                await ensure_async(km.shutdown_kernel(now=True))
        except Exception:  # already gone
            pass
        try:
            await ensure_async(km.cleanup_resources())
        except Exception:
            pass

    def kernel_pid(self) -> int | None:
        process = getattr(getattr(self.km, "provisioner", None), "process", None)
        return getattr(process, "pid", None)


def signal_kernel(task_id: str, sig: int = signal.SIGKILL) -> bool:
    """Send ``sig`` to the kernel of a running task (timeouts, Ctrl-C); False when none runs."""
    with _active_guard:
        client = _ACTIVE.get(task_id)
    pid = client.kernel_pid() if client else None
    if not pid:
        return False
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return False
    return True


def forget_task(task_id: str) -> None:
    with _active_guard:
        _ACTIVE.pop(task_id, None)


def kernel_environment(**mlops: str | None) -> dict[str, str]:
    """MLOPS_* variables for the kernel (None values are left out)."""
    return {f"MLOPS_{k.upper()}": str(v) for k, v in mlops.items() if v is not None}


class MlopsEngine(NBClientEngine):
    """The ``mlops`` papermill engine (entry point ``papermill.engine: mlops``)."""

    @classmethod
    def execute_notebook(cls, nb: Any, kernel_name: str, **kwargs: Any) -> Any:
        track = kwargs.pop("mlops_track", True)
        if not track or os.environ.get("MLOPS_ENGINE_TRACKING", "1") == "0":
            return super().execute_notebook(nb, kernel_name, **kwargs)
        from .standalone import TrackedExecution

        tracked = TrackedExecution.start(nb, kwargs.get("input_path"), kwargs.get("output_path"))
        env = dict(kwargs.pop("kernel_env", None) or {})
        env.update(tracked.kernel_env())
        started = time.time()
        try:
            result = super().execute_notebook(nb, kernel_name, kernel_env=env, **kwargs)
        except KeyboardInterrupt:
            tracked.finish(nb, started, interrupted=True)
            raise
        except BaseException as exc:
            tracked.finish(nb, started, crash=exc)
            raise
        tracked.finish(result, started)
        return result

    @classmethod
    def execute_managed_notebook(
        cls,
        nb_man: Any,
        kernel_name: str,
        log_output: bool = False,
        stdout_file: Any = None,
        stderr_file: Any = None,
        start_timeout: int = 60,
        execution_timeout: float | None = None,
        kernel_env: dict[str, str] | None = None,
        task_id: str | None = None,
        **kwargs: Any,
    ) -> Any:
        # the same argument handling as NBClientEngine, with our client class
        kwargs = remove_args(["input_path"], **kwargs)
        safe_kwargs = remove_args(["timeout", "startup_timeout"], **kwargs)
        final_kwargs = merge_kwargs(
            safe_kwargs,
            timeout=execution_timeout if execution_timeout else kwargs.get("timeout"),
            startup_timeout=start_timeout,
            kernel_name=kernel_name,
            log=logging.getLogger("papermill"),
            log_output=log_output,
            stdout_file=stdout_file,
            stderr_file=stderr_file,
        )
        client = MlopsNotebookClient(nb_man, kernel_env=kernel_env, task_id=task_id, **final_kwargs)
        try:
            return client.execute()
        finally:
            if task_id:
                forget_task(task_id)


def register_engine() -> None:
    """Make ``engine_name="mlops"`` work even when the package is not installed (tests, dev)."""
    from papermill.engines import papermill_engines

    if papermill_engines._engines.get("mlops") is not MlopsEngine:
        papermill_engines.register("mlops", MlopsEngine)
