"""The built-in run-context providers, and the registry every run starts from.

In order: the environment (``mlops.env_hash``), the notebook (``mlops.notebook``,
``mlflow.source.name``), papermill's injected parameters (``mlops.param.*``) and git (read by the
sync thread, off the cell's path). See ``run_context`` for the protocol and the entry points.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..journal.flusher import git_tags
from ..limits import LINE_TEXT
from ..settings import environment_settings
from ..tags import ENV_HASH_TAG, NOTEBOOK_TAG, param_tag
from . import record_checks
from .environment import environment_snapshot
from .gitinfo import git_state
from .run_context import RunContextRegistry, RunStart

# parameters papermill injected into this kernel (the notebook's cell hooks fill it)
injected_parameters: dict[str, Any] = {}


def parameter_tags(params: dict[str, Any]) -> dict[str, str]:
    """The ``mlops.param.NAME`` tags of injected parameters: one conversion for every run."""
    return {param_tag(k): record_checks.param_text(v)[:LINE_TEXT] for k, v in params.items()}


class EnvironmentContext:
    name = "environment"

    def in_context(self, run: RunStart) -> bool:
        return True

    def tags(self, run: RunStart) -> dict[str, str]:
        return {ENV_HASH_TAG: environment_snapshot()["hash"]}


class NotebookContext:
    """The notebook a run comes from: set by the pipeline engine, or Jupyter's session name."""

    name = "notebook"

    def _path(self) -> str | None:
        return environment_settings().notebook_path or os.environ.get("JPY_SESSION_NAME")

    def in_context(self, run: RunStart) -> bool:
        return bool(self._path())

    def tags(self, run: RunStart) -> dict[str, str]:
        path = self._path() or ""
        return {NOTEBOOK_TAG: path, "mlflow.source.name": path}


class PapermillContext:
    """The parameters papermill injected, for the runs of a kernel papermill executes."""

    name = "papermill"

    def in_context(self, run: RunStart) -> bool:
        return bool(injected_parameters)

    def tags(self, run: RunStart) -> dict[str, str]:
        return parameter_tags(injected_parameters)


class GitContext:
    """Commit, branch, dirty flag and remote of the project (the diff becomes an artifact).

    Its ``git`` subprocesses take tens of milliseconds, so a tracked run hands ``state_reader``
    to the sync thread instead of calling ``tags`` as it starts."""

    name = "git"
    off_cell_path = True

    @staticmethod
    def state_reader(root: Path) -> dict[str, Any] | None:
        return git_state(root)

    def in_context(self, run: RunStart) -> bool:
        return True  # outside a repository the reader finds nothing and tags nothing

    def tags(self, run: RunStart) -> dict[str, str]:
        state = git_state(run.ws.root)
        return git_tags(state) if state is not None else {}


BUILTIN_PROVIDERS = (EnvironmentContext, NotebookContext, PapermillContext, GitContext)

run_context_registry = RunContextRegistry([provider() for provider in BUILTIN_PROVIDERS])
