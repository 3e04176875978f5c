"""The registry of model flavors: the built-ins, and those other packages declare.

Shaped like the release gates' registry: ``register`` adds a flavor, ``register_entry_points``
loads the ``jupyter_mlops.flavors`` entry points (once, on first use, never at import), ``get``
finds one by name (the sync agent, building a staged model) and ``flavor_for`` finds the one that
recognises an object (the tracked cell). Flavors from entry points are asked first; among the
built-ins the boosting libraries come before scikit-learn, whose ``BaseEstimator`` their
scikit-learn-style classes also are.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from ..errors import ConfigError
from ..plugins import load_entry_points
from .builtin import BUILTIN_FLAVORS
from .protocol import ModelFlavor

ENTRY_POINT_GROUP = "jupyter_mlops.flavors"
log = logging.getLogger("jupyter_mlops")


class ModelFlavors:
    def __init__(self, builtins: list[ModelFlavor] | None = None) -> None:
        self._builtins: dict[str, ModelFlavor] = {f.name: f for f in builtins or []}
        self._added: dict[str, ModelFlavor] = {}
        self._entry_points_loaded = False
        self.load_errors: list[str] = []

    def register(self, flavor: ModelFlavor) -> None:
        """Add ``flavor``, asked before the built-ins; one of the same name is replaced."""
        if not isinstance(flavor, ModelFlavor) or not isinstance(
            getattr(flavor, "name", None), str
        ):
            raise ConfigError(
                f"{flavor!r} is not a model flavor",
                hint="a flavor has name, library, requirements, recognises, fitted, params, "
                "features, predict and save (jupyter_mlops.flavors.protocol)",
            )
        self._added.pop(flavor.name, None)
        self._added[flavor.name] = flavor

    def register_entry_points(self) -> None:
        """Load the flavors other packages declare; a broken one is logged and named."""
        self._entry_points_loaded = True
        failed = load_entry_points(ENTRY_POINT_GROUP, self.register, "model flavor")
        self.load_errors += map(str, failed)

    def flavors(self) -> list[ModelFlavor]:
        """Every flavor in the order they are asked."""
        if not self._entry_points_loaded:
            self.register_entry_points()
        return [*self._added.values(), *self._builtins.values()]

    def get(self, name: str) -> ModelFlavor | None:
        for flavor in self.flavors():
            if flavor.name == name:
                return flavor
        return None

    def flavor_for(self, obj: Any) -> ModelFlavor | None:
        """The first flavor whose library is imported and that recognises ``obj``."""
        if isinstance(obj, type):
            return None
        for flavor in self.flavors():
            if flavor.library not in sys.modules:
                continue
            try:
                if flavor.recognises(obj):
                    return flavor
            except Exception:  # a flavor's bug costs its objects, never the cell
                log.debug("model flavor %r failed on %r", flavor.name, type(obj), exc_info=True)
        return None

    def imported(self) -> bool:
        """Whether any flavor's library is imported (else no object can be a model)."""
        return any(f.library in sys.modules for f in self.flavors())


model_flavors = ModelFlavors(BUILTIN_FLAVORS)


def is_builtin(flavor: ModelFlavor) -> bool:
    """A flavor every process has (the sync agent too), not one a package or notebook added."""
    return any(flavor is f for f in BUILTIN_FLAVORS)
