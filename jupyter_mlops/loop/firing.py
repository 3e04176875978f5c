"""A trigger firing, and the round of checks that finds it (what the probes share)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from ..monitor.report import MonitorReport, build_report
from ..pipeline.files import DigestMemo
from ..store.gateway import Gateway
from .spec import Trigger


@dataclass(frozen=True)
class Firing:
    """One trigger firing: which, why (in words), when, and what it saw."""

    trigger: str
    kind: str
    reason: str
    at: float
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class TriggerCheck:
    """One round of checks: the workspace, the model, the time, and what the round shares (one
    monitoring report per window, one digest memo)."""

    def __init__(self, gw: Gateway, model: str, now: float | None = None) -> None:
        self.gw, self.ws, self.model = gw, gw.ws, model
        self.now = now if now is not None else time.time()
        self.digests = DigestMemo(self.ws.subdir("loop") / "digests.json")
        self._reports: dict[float, MonitorReport] = {}

    def report(self, window: float) -> MonitorReport:
        """The model's monitoring report over ``window`` seconds ending now (not recorded as a
        run: a check every few seconds would bury the real ones)."""
        if window not in self._reports:
            self._reports[window] = build_report(
                self.gw, self.model, window=window, until=self.now, record=False, workers=1
            )
        return self._reports[window]


Probe = Callable[[TriggerCheck, Trigger, dict[str, Any]], "Firing | None"]
