"""Checking a piece of the ``release:`` section: errors that name the file, the key path and its line.

The policy parser and every gate's own config check share these, so a mistake in any gate's
settings reads the same way: ``mlops.yaml:14 release.gates.latency.p95_ms: must be a number``.
"""

from __future__ import annotations

from typing import Any

from ...config import line_of
from ...errors import ConfigError
from ...workspace import Workspace

Keys = list[
    str | int
]  # a key path: str and int parts, e.g. ["release", "gates", "metrics", "accuracy"]


class SpecSite:
    """Where a policy value came from (the project, its mlops.yaml, the composed YAML tree), so
    an error can point at it and a check can look at the project's files."""

    def __init__(self, ws: Workspace, node: Any) -> None:
        self.ws, self.path, self.node = ws, str(ws.config_path), node

    def error(self, keys: Keys, message: str, hint: str | None = None) -> ConfigError:
        line = line_of(self.node, keys) if self.node is not None else None
        key = ".".join(str(k) for k in keys)
        return ConfigError(message, path=self.path, key=key, line=line, hint=hint)

    def mapping(self, keys: Keys, value: Any) -> dict[str, Any]:
        """The value as a mapping (nothing given counts as empty)."""
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.error(keys, f"must be a mapping, not {type(value).__name__}")
        return value

    def number(
        self, keys: Keys, value: Any, lo: float | None = None, hi: float | None = None
    ) -> float:
        """The value as a number within [lo, hi]; booleans are not numbers here."""
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(keys, f"must be a number, not {value!r}")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise self.error(keys, f"must be between {lo} and {hi}, got {value}")
        return float(value)
