"""Run-context providers: where a run's context tags come from, shaped like MLflow's registry.

A provider has a ``name``, ``in_context(run)`` (does it apply to this run at all?) and
``tags(run)`` (its tags). The registry asks every provider in registration order as a run starts
and merges their tags, a later provider overriding an earlier one on the same key; the run's own
tags (``track(tags=...)``, the cell's) override them all. Built-ins come first (environment,
notebook, papermill, git: ``capture.context_providers``), then those other packages declare in
the ``jupyter_mlops.run_context`` entry-point group, sorted by entry-point name::

    [project.entry-points."jupyter_mlops.run_context"]
    cluster = "my_package.context:ClusterContext"

where ``ClusterContext`` (a class, instantiated without arguments, or an instance) follows
``RunContextProvider``. ``tags`` runs on the cell's path, so it must be cheap. A provider that
raises (in ``in_context`` or ``tags``) fails neither the run nor the cell: its error is logged at
debug level and its name is listed in the run's ``mlops.context_errors`` tag.

A provider with ``off_cell_path = True`` is not asked as the run starts: its ``state_reader``
(root folder -> repository state) is handed to the sync thread, which tags the run with what it
reads. Git is such a provider (its ``git`` subprocesses take tens of milliseconds).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from ..errors import ConfigError
from ..limits import ERROR_TEXT
from ..plugins import load_entry_points
from ..tags import CONTEXT_ERRORS_TAG
from ..workspace import Workspace

ENTRY_POINT_GROUP = "jupyter_mlops.run_context"
ERRORS_TAG = CONTEXT_ERRORS_TAG
log = logging.getLogger("jupyter_mlops")


@dataclass(frozen=True)
class RunStart:
    """What a provider knows of the run being started."""

    ws: Workspace
    kind: str  # run | cell | session | step


@runtime_checkable
class RunContextProvider(Protocol):
    name: str

    def in_context(self, run: RunStart) -> bool: ...

    def tags(self, run: RunStart) -> Mapping[str, str]: ...


StateReader = Callable[[Path], "dict[str, Any] | None"]


@dataclass
class ResolvedContext:
    """The tags of the providers asked as the run started, and the readers left for later."""

    tags: dict[str, str]
    state_readers: list[StateReader]


def _no_state(root: Path) -> None:
    return None


class RunContextRegistry:
    def __init__(self, providers: list[RunContextProvider] | None = None) -> None:
        self._providers: dict[str, RunContextProvider] = {}
        self._load_errors: list[str] = []
        self._entry_points_loaded = False
        for provider in providers or []:
            self.register(provider)

    def register(self, provider: RunContextProvider) -> None:
        """Add ``provider`` (after those registered before it); one of the same name is replaced."""
        if not isinstance(provider, RunContextProvider) or not isinstance(
            getattr(provider, "name", None), str
        ):
            raise ConfigError(
                f"{provider!r} is not a run-context provider",
                hint="a provider has a name, in_context(run) and tags(run)",
            )
        self._providers.pop(provider.name, None)
        self._providers[provider.name] = provider

    def register_entry_points(self) -> None:
        """Load the providers other packages declare; a broken one is logged and named later."""
        self._entry_points_loaded = True
        failed = load_entry_points(ENTRY_POINT_GROUP, self.register, "run-context provider")
        self._load_errors += map(str, failed)

    def providers(self) -> list[RunContextProvider]:
        if not self._entry_points_loaded:
            self.register_entry_points()
        return list(self._providers.values())

    def resolve(self, run: RunStart) -> ResolvedContext:
        """Every in-context provider's tags merged in order, and the off-path state readers."""
        tags: dict[str, str] = {}
        readers: list[StateReader] = []
        errors = list(self._load_errors)
        for provider in self.providers():
            try:
                if not provider.in_context(run):
                    continue
                if getattr(provider, "off_cell_path", False):
                    readers.append(getattr(provider, "state_reader", None) or _no_state)
                    continue
                tags.update({str(k): str(v) for k, v in provider.tags(run).items()})
            except Exception as exc:  # a provider's failure costs its tags, never the cell
                log.debug("run-context provider %r failed", provider.name, exc_info=True)
                errors.append(f"{provider.name}: {type(exc).__name__}: {exc}")
        if errors:
            tags[ERRORS_TAG] = "; ".join(errors)[:ERROR_TEXT]
        return ResolvedContext(tags, readers)
