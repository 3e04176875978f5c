"""Session mode: every cell run between ``%mlops track on`` and ``off`` is a step of one run.

The order in which cells were really executed becomes data: step ``n`` of the metrics
``mlops.cell.execution_count`` / ``mlops.cell.duration_s`` / ``mlops.cell.ok`` is the n-th cell
run, and ``cells/NNNN.py`` holds its code.
"""

from __future__ import annotations

import json
import time
from typing import Any

from ..tags import SESSION_CELL_COUNT_METRIC, SESSION_CELL_DURATION_METRIC, SESSION_CELL_OK_METRIC
from ..workspace import Workspace
from . import estimators, record_checks
from .params import literal_assignments
from .tracker import RunRecorder, pop_active, push_active


class SessionRecorder:
    def __init__(
        self, ws: Workspace, experiment: str | None = None, name: str | None = None
    ) -> None:
        self.run = RunRecorder(
            ws, name=name or "session", experiment=experiment, kind="session"
        ).start()
        push_active(self.run)
        self.steps: list[dict[str, Any]] = []
        self.changed_params: dict[str, list[str]] = {}
        self._before: dict[str, tuple[int, estimators.Marker]] = {}
        self._t0 = time.perf_counter()

    def before_cell(self, user_ns: dict[str, Any]) -> None:
        self._before = estimators.snapshot(user_ns)
        self._t0 = time.perf_counter()

    def after_cell(
        self,
        source: str,
        execution_count: int | None,
        user_ns: dict[str, Any],
        error: BaseException | None,
    ) -> None:
        duration = time.perf_counter() - self._t0
        seq = len(self.steps) + 1
        ok = error is None
        self.steps.append(
            {
                "step": seq,
                "execution_count": execution_count,
                "duration_s": round(duration, 6),
                "ok": ok,
                "error": f"{type(error).__name__}: {error}" if error else None,
            }
        )
        run = self.run
        run.log_text(source, f"cells/{seq:04d}.py")
        run.log_metrics(
            {
                SESSION_CELL_DURATION_METRIC: duration,
                SESSION_CELL_COUNT_METRIC: float(execution_count or 0),
                SESSION_CELL_OK_METRIC: 1.0 if ok else 0.0,
            },
            step=seq,
        )
        fresh = {}
        logged = run.params
        for key, value in literal_assignments(source).items():
            text = record_checks.param_text(value)
            old = logged.get(key)
            if old is None:
                fresh[key] = value
            elif old != text:
                self.changed_params.setdefault(key, [old]).append(text)
        if fresh:
            run.log_params(fresh)
        if ok:
            estimators.log_fitted_models(run, self._before, user_ns)

    def stop(self, status: str = "FINISHED") -> None:
        pop_active(self.run)
        self.run.log_text(
            json.dumps({"steps": self.steps, "changed_params": self.changed_params}, indent=1),
            "mlops/session.json",
        )
        self.run.end(status)
