"""Checking a piece of the ``release:`` section: errors that name the file, the key path and its line.

The policy parser and every gate's own config check share these, so a mistake in any gate's
settings reads the same way: ``mlops.yaml:14 release.gates.latency.p95_ms: must be a number``.
A gate's ``check_config`` receives a ``SpecSite``: mlops.yaml's ``Site`` (``config.py``, which
every section's parser uses) plus the project, for checks that look at its files.
"""

from __future__ import annotations

from typing import Any

from ...config import Site
from ...workspace import Workspace

Keys = list[
    str | int
]  # a key path: str and int parts, e.g. ["release", "gates", "metrics", "accuracy"]


class SpecSite(Site):
    """Where a policy value came from (the project, its mlops.yaml, the composed YAML tree), so
    an error can point at it and a check can look at the project's files."""

    def __init__(self, ws: Workspace, node: Any) -> None:
        super().__init__(ws.config_path, node)
        self.ws = ws
