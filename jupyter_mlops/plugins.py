"""Plugins other packages declare as entry points: model flavors, run-context providers and
release gates each keep a registry, and fill it from their group through ``load_entry_points``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

log = logging.getLogger("jupyter_mlops")


@dataclass(frozen=True)
class LoadError:
    """An entry point that could not be loaded or registered."""

    name: str
    value: str
    error: Exception

    def __str__(self) -> str:
        return f"{self.name}: {type(self.error).__name__}: {self.error}"


def load_entry_points(group: str, register: Callable[[Any], None], what: str) -> list[LoadError]:
    """Hand each entry point of ``group`` to ``register``, in name order (a class is instantiated
    without arguments). One that fails to load or register is logged and left out: another
    package's bug never breaks ours. Returns those."""
    errors = []
    for ep in sorted(entry_points(group=group), key=lambda ep: ep.name):
        try:
            loaded: Any = ep.load()
            register(loaded() if isinstance(loaded, type) else loaded)
        except Exception as exc:
            log.debug("%s %r (%s) not loaded", what, ep.name, ep.value, exc_info=True)
            errors.append(LoadError(ep.name, ep.value, exc))
    return errors
