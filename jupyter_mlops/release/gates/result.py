"""What a gate says: value, threshold, verdict and the reason, in words a reviewer can act on."""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from ...store.run_details import read_json_artifact
from ...tags import GATE_PREFIX
from ..registered_model import T_GATE_RUN

if TYPE_CHECKING:
    from ...store.gateway import Gateway


@dataclass
class GateResult:
    gate: (
        str  # metrics.accuracy, champion, signature, latency, size, business, fairness, importance
    )
    kind: str  # technical | business | responsible
    passed: bool
    value: Any = None
    threshold: Any = None
    reason: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        return "pass" if self.passed else "FAIL"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class GateReport:
    model: str
    version: str
    results: list[GateResult]
    run_id: str | None = None
    evaluation: dict[str, Any] = field(default_factory=dict)
    artifacts: dict[str, str] = field(default_factory=dict)  # name -> local file (charts)
    metrics: dict[str, float] = field(default_factory=dict)  # candidate on the evaluation data
    champion: dict[str, Any] = field(default_factory=dict)  # {"version", "metrics"}

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    @property
    def failed(self) -> list[GateResult]:
        return [r for r in self.results if not r.passed]

    def rows(self) -> list[list[str]]:
        return [
            [r.gate, r.kind, _fmt(r.value), _fmt(r.threshold), r.verdict, r.reason]
            for r in self.results
        ]

    def text(self) -> str:
        head = ["gate", "kind", "value", "threshold", "verdict", "reason"]
        rows = self.rows()
        widths = [
            max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(head)
        ]
        fmt: Callable[[list[str]], str] = lambda r: "  ".join(  # noqa: E731
            c.ljust(w) for c, w in zip(r, widths, strict=True)
        )
        verdict = "PASSED" if self.passed else f"FAILED ({', '.join(r.gate for r in self.failed)})"
        lines = [
            f"{self.model} v{self.version}: gates {verdict}",
            fmt(head),
            *(fmt(r) for r in rows),
        ]
        if self.run_id:
            lines.append(f"gate run: {self.run_id}")
        return "\n".join(lines)

    def html(self) -> str:
        color = "#1a7f37" if self.passed else "#cf222e"
        cells = "".join(
            "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
            for row in self.rows()
        )
        return (
            f"<div class='jp-mlops-gates'><b style='color:{color}'>{html.escape(self.model)} "
            f"v{self.version}: gates {'passed' if self.passed else 'FAILED'}</b>"
            "<table><tr><th>gate</th><th>kind</th><th>value</th><th>threshold</th><th>verdict</th>"
            f"<th>reason</th></tr>{cells}</table></div>"
        )


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, dict):
        return ", ".join(f"{k}={_fmt(x)}" for k, x in v.items())
    return str(v)


GATE_TAG = GATE_PREFIX


def recorded_report(gw: Gateway, mv: Any) -> GateReport | None:
    """The version's last recorded gate report (``gates/gates.json`` of its gate run), or None.

    When the gate run's artifacts are out of reach the per-gate version tags still say what
    passed: a report rebuilt from them (no values, no charts) is returned instead.
    """
    tags = dict(mv.tags or {})
    run_id = tags.get(T_GATE_RUN)
    data = None
    if run_id:
        data = read_json_artifact(gw, run_id, "gates/gates.json")
    if isinstance(data, dict) and isinstance(data.get("results"), list):
        return GateReport(
            data.get("model", mv.name),
            str(data.get("version", mv.version)),
            [GateResult(**r) for r in data["results"]],
            run_id=run_id,
            evaluation=data.get("evaluation") or {},
            metrics=data.get("metrics") or {},
            champion=data.get("champion") or {},
        )
    results = []
    for key, value in sorted(tags.items()):
        if key.startswith(GATE_TAG):
            verdict, _, reason = value.partition(": ")
            results.append(GateResult(key[len(GATE_TAG) :], "", verdict == "pass", reason=reason))
    if not results and not run_id:
        return None
    return GateReport(mv.name, str(mv.version), results, run_id=run_id)
