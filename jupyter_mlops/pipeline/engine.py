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
import time
from typing import Any

from ..errors import ConfigError
from ..settings import environment_settings
from ..workspace import Workspace
from .engine_tracking import TrackedExecution

log = logging.getLogger("jupyter_mlops.engine")


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
        if not track or not _tracks():
            return ManagedEngine.execute_notebook(nb, kernel_name, **kwargs)
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
    """Make ``engine_name="mlops"`` work even when the package is not installed (tests, dev).

    papermill's public ``register`` (registering the same class again changes nothing); an
    installed package is found through the ``papermill.engine`` entry point as well."""
    from papermill.engines import papermill_engines

    papermill_engines.register("mlops", MlopsEngine)


def _tracks() -> bool:
    """The ``engine_tracking`` setting of the project the notebook runs in (of the environment
    alone when that project's mlops.yaml cannot be read: tracking is best effort)."""
    try:
        return Workspace.find().settings.engine_tracking
    except ConfigError:
        return environment_settings().engine_tracking
