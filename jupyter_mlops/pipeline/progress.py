"""What a build shows while it runs (progress bar and event lines) and the summary table at the end.

tqdm.auto draws a widget in notebooks and a text bar in terminals; without tqdm, or with progress
off, events are plain lines (or nothing).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any, TextIO


@dataclass
class StepReport:
    name: str
    status: str  # cached | ran | failed | skipped | killed | would run | up to date
    reason: str = ""
    run_id: str | None = None
    duration: float = 0.0
    metric: tuple[str, float] | None = None
    trials: int = 0
    error: dict[str, Any] | None = None
    metrics: dict[str, float] = field(default_factory=dict)


OK_STATES = ("cached", "ran", "would run", "up to date")


def key_metric(step: Any, metrics: dict[str, float]) -> tuple[str, float] | None:
    """The step's declared metric (or its sweep's), else its first metric by name."""
    name = step.key_metric
    if name and name in metrics:
        return name, metrics[name]
    for name in sorted(metrics):
        if name != "duration_s":
            return name, metrics[name]
    return None


@dataclass
class BuildReport:
    steps: list[StepReport]
    pipeline_run_id: str | None = None
    duration: float = 0.0
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return all(s.status in OK_STATES for s in self.steps)

    def step(self, name: str) -> StepReport:
        return next(s for s in self.steps if s.name == name)

    def table(self) -> str:
        return format_table(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(self.table())


def _metric_text(report: StepReport) -> str:
    if not report.metric:
        return ""
    name, value = report.metric
    return f"{name}={value:.4g}"


def format_table(report: BuildReport) -> str:
    headers = ["step", "status", "duration", "key metric", "run", "note"]
    rows = []
    for s in report.steps:
        note = s.reason if s.status not in ("cached", "ran") else ""
        if s.trials:
            note = f"{s.trials} trials" + (f"; {note}" if note else "")
        if s.error:
            where = (
                f"cell {s.error['cell_index']}: " if s.error.get("cell_index") is not None else ""
            )
            note = f"{where}{s.error.get('ename')}: {s.error.get('evalue', '')}"[:80]
        rows.append(
            [
                s.name,
                s.status,
                f"{s.duration:.1f}s" if s.duration else "-",
                _metric_text(s),
                (s.run_id or "")[:12],
                note,
            ]
        )
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        lines.append("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    verb = "would build" if report.dry_run else "built"
    ran = sum(s.status == "ran" for s in report.steps)
    cached = sum(s.status == "cached" for s in report.steps)
    tail = f"{verb} {len(report.steps)} steps in {report.duration:.2f}s"
    if not report.dry_run:
        tail += f": {ran} ran, {cached} cached"
    if report.pipeline_run_id:
        tail += f"; pipeline run {report.pipeline_run_id}"
    lines.append(tail)
    return "\n".join(lines)


class BuildProgress:
    """A bar over the notebook executions of a build, plus one line per finished step."""

    def __init__(self, total: int, enabled: bool = True, stream: TextIO | None = None) -> None:
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self._bar = None
        if enabled and total:
            try:
                from tqdm.auto import tqdm

                self._bar = tqdm(
                    total=total, unit="nb", desc="build", file=self.stream, leave=False
                )
            except ImportError:
                self._bar = None

    def grow(self, extra: int) -> None:
        if self._bar is not None and extra:
            self._bar.total = (self._bar.total or 0) + extra
            self._bar.refresh()

    def running(self, label: str) -> None:
        if self._bar is not None:
            self._bar.set_description(label[:40])

    def advance(self, n: int = 1) -> None:
        if self._bar is not None:
            self._bar.update(n)

    def event(self, text: str) -> None:
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.write(text, file=self.stream)
        else:
            print(text, file=self.stream)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
