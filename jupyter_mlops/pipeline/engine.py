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

log = logging.getLogger("jupyter_mlops.engine")

_ACTIVE: dict[str, Any] = {}
_active_guard = threading.Lock()


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


def register_active(task_id: str, client: Any) -> None:
    with _active_guard:
        _ACTIVE[task_id] = client


class MlopsEngine:
    """The ``mlops`` papermill engine (entry point ``papermill.engine: mlops``).

    papermill imports its entry points while it is itself being imported, so this class does not
    subclass papermill's engine at import time (that would be a circular import whenever this
    module is imported first); it delegates to ``notebook_client.ManagedEngine``, papermill's
    NBClientEngine with our notebook client.
    """

    @classmethod
    def nb_kernel_name(cls, nb: Any, name: str | None = None) -> Any:
        from papermill.utils import nb_kernel_name

        return nb_kernel_name(nb, name)

    @classmethod
    def nb_language(cls, nb: Any, language: str | None = None) -> Any:
        from papermill.utils import nb_language

        return nb_language(nb, language)

    @classmethod
    def execute_notebook(cls, nb: Any, kernel_name: str, **kwargs: Any) -> Any:
        from .notebook_client import ManagedEngine

        track = kwargs.pop("mlops_track", True)
        if not track or os.environ.get("MLOPS_ENGINE_TRACKING", "1") == "0":
            return ManagedEngine.execute_notebook(nb, kernel_name, **kwargs)
        from .engine_tracking import TrackedExecution

        tracked = TrackedExecution.start(nb, kwargs.get("input_path"), kwargs.get("output_path"))
        env = dict(kwargs.pop("kernel_env", None) or {})
        late = kwargs.pop("kernel_env_late", None)
        if late is not None:
            env.update(late())
        env.update(tracked.kernel_env())
        started = time.time()
        try:
            result = ManagedEngine.execute_notebook(nb, kernel_name, kernel_env=env, **kwargs)
        except KeyboardInterrupt:
            tracked.finish(nb, started, interrupted=True)
            raise
        except BaseException as exc:
            tracked.finish(nb, started, crash=exc)
            raise
        tracked.finish(result, started)
        return result


def register_engine() -> None:
    """Make ``engine_name="mlops"`` work even when the package is not installed (tests, dev)."""
    from papermill.engines import papermill_engines

    if papermill_engines._engines.get("mlops") is not MlopsEngine:
        papermill_engines.register("mlops", MlopsEngine)
