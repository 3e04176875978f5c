"""Release gates: technical, business and responsible-AI checks that really gate promotion."""

from __future__ import annotations

from .result import GateReport, GateResult

__all__ = ["GateReport", "GateResult"]
