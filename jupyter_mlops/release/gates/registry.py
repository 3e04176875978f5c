"""The registry of release gates, fed by the built-ins and the ``jupyter_mlops.gates`` entry points.

Shaped like papermill's engine registry: ``register`` adds a gate, ``register_entry_points``
loads those other packages declare (once, on first use, never at import), ``get`` finds one by
the name it has under ``release.gates`` in mlops.yaml. Gates run in registration order, so the
built-ins keep their order (cheap technical checks first) and added ones come after.

A package adds a gate with, in its pyproject.toml::

    [project.entry-points."jupyter_mlops.gates"]
    data_quality = "my_package.gates:DataQualityGate"

where ``DataQualityGate`` (a class, instantiated without arguments, or an instance) follows the
``Gate`` protocol of ``gates.protocol``.
"""

from __future__ import annotations

import logging
from typing import Any

from ...errors import ConfigError
from ...plugins import load_entry_points
from .builtin import BUILTIN_GATES
from .protocol import Gate

ENTRY_POINT_GROUP = "jupyter_mlops.gates"
log = logging.getLogger("jupyter_mlops")


class ReleaseGates:
    def __init__(self) -> None:
        self._gates: dict[str, Gate] = {}
        self._entry_points_loaded = False

    def register(self, gate: Gate) -> None:
        if not isinstance(gate, Gate) or not isinstance(getattr(gate, "name", None), str):
            raise ConfigError(
                f"{gate!r} is not a release gate",
                hint="a gate has name, kind, needs_evaluation, check_config, metrics_needed, run",
            )
        self._gates[gate.name] = gate

    def register_entry_points(self) -> None:
        """Load the gates other packages declare; a broken one is logged and left out."""
        self._entry_points_loaded = True
        for failed in load_entry_points(ENTRY_POINT_GROUP, self.register, "release gate"):
            log.warning(
                "release gate %r from %s could not be loaded: %s",
                failed.name,
                failed.value,
                failed.error,
            )

    def _ensure_loaded(self) -> None:
        if not self._entry_points_loaded:
            self.register_entry_points()

    def get(self, name: str) -> Gate | None:
        self._ensure_loaded()
        return self._gates.get(name)

    def names(self) -> list[str]:
        self._ensure_loaded()
        return list(self._gates)

    def in_order(self, declared: dict[str, Any]) -> list[Gate]:
        """The registered gates the policy declares, in registration order."""
        self._ensure_loaded()
        return [gate for name, gate in self._gates.items() if name in declared]


release_gates = ReleaseGates()
for _gate in BUILTIN_GATES:
    release_gates.register(_gate)
