"""``ci-report.md``: the CI outcome as a Markdown PR comment, with PNG plots beside it (the
candidate's metrics against the champion's, and the training-data drift per feature). A comment
tool that publishes local images (CML's ``cml comment create``) shows them inline."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from .ci import CiOutcome
from .output import write_text

METRICS_PNG = "ci-metrics.png"
DRIFT_PNG = "ci-drift.png"


def _num(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value)
    if isinstance(value, (int, float)):
        return f"{value:.4g}" if math.isfinite(value) else str(value)
    return str(value)


def _delta(new: float | None, old: float | None) -> str:
    if new is None or old is None:
        return ""
    return f"{new - old:+.4g}"


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _table(head: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def _headline(o: CiOutcome) -> str:
    if o.problem:
        return f"## {o.model}: no verdict, {o.problem}"
    assert o.gates is not None
    if o.gates.passed:
        verdict = "gates PASSED"
    else:
        verdict = "gates FAILED (" + ", ".join(r.gate for r in o.gates.failed) + ")"
    return f"## {o.model} v{o.version}: {verdict}"


def metrics_section(o: CiOutcome) -> list[str]:
    assert o.gates is not None
    champ = (o.gates.champion or {}).get("metrics") or {}
    champion = (o.gates.champion or {}).get("version") or o.champion
    head = [
        "metric",
        f"candidate v{o.version}",
        f"champion v{champion}" if champion else "champion",
        "delta",
    ]
    rows = [
        [name, _num(value), _num(champ.get(name)), _delta(value, champ.get(name))]
        for name, value in sorted(o.gates.metrics.items())
    ]
    return ["### Metrics on the evaluation data", "", *_table(head, rows)]


def gates_section(o: CiOutcome) -> list[str]:
    assert o.gates is not None
    rows = [
        [
            r.gate,
            r.verdict if r.passed else f"**{r.verdict}**",
            _num(r.value),
            _num(r.threshold),
            r.reason,
        ]
        for r in o.gates.results
    ]
    return ["### Gates", "", *_table(["gate", "verdict", "value", "threshold", "reason"], rows)]


def steps_section(o: CiOutcome) -> list[str]:
    rows = []
    for s in o.build.steps:
        metric = f"{s.metric[0]}={s.metric[1]:.4g}" if s.metric else ""
        note = (
            f"{s.trials} trials"
            if s.trials
            else ("" if s.status in ("cached", "ran") else s.reason)
        )
        rows.append([s.name, s.status, f"{s.duration:.1f} s", metric, (s.run_id or "")[:12], note])
    ran = sum(s.status == "ran" for s in o.build.steps)
    cached = sum(s.status == "cached" for s in o.build.steps)
    return [
        f"### Build: {ran} ran, {cached} cached, in {o.build.duration:.1f} s",
        "",
        *_table(["step", "status", "duration", "key metric", "run", "note"], rows),
    ]


def drift_section(o: CiOutcome) -> list[str]:
    lines = ["### Training data against the champion's", ""]
    if not o.drift:
        return [*lines, o.drift_note or "not compared"]
    rows = [
        [
            d.feature,
            d.kind,
            _num(d.psi),
            _num(d.ks),
            "**drift**" if d.drifted else "no",
            "; ".join(d.reasons),
        ]
        for d in sorted(o.drift.values(), key=lambda d: -(d.psi or 0.0))
    ]
    drifted = sum(d.drifted for d in o.drift.values())
    return [
        *lines,
        f"{drifted} of {len(o.drift)} features drifted ({o.drift_note}).",
        "",
        *_table(["feature", "kind", "PSI", "KS", "drift", "why"], rows),
    ]


def _metrics_figure(o: CiOutcome) -> Any:
    import numpy as np
    from matplotlib.figure import Figure

    assert o.gates is not None
    champ = (o.gates.champion or {}).get("metrics") or {}
    names = sorted(o.gates.metrics)
    fig = Figure(figsize=(7, 3.5), layout="constrained")
    ax = fig.add_subplot()
    x = np.arange(len(names))
    ax.bar(x - 0.2, [o.gates.metrics[n] for n in names], 0.4, label=f"candidate v{o.version}")
    if champ:
        ax.bar(x + 0.2, [champ.get(n, np.nan) for n in names], 0.4, label="champion")
    ax.set_xticks(x, names, rotation=30, fontsize=8)
    ax.set_title(f"{o.model}: evaluation metrics", fontsize=10)
    ax.legend(fontsize=8)
    return fig


def _drift_figure(o: CiOutcome) -> Any:
    from matplotlib.figure import Figure

    items = sorted(o.drift.values(), key=lambda d: d.psi or 0.0)[-20:]
    fig = Figure(figsize=(7, max(2.5, 0.3 * len(items) + 1)), layout="constrained")
    ax = fig.add_subplot()
    ax.barh(
        [d.feature for d in items],
        [d.psi or 0.0 for d in items],
        color=["#cf222e" if d.drifted else "#1f6feb" for d in items],
    )
    ax.set_xlabel("PSI of the candidate's training data against the champion's")
    ax.tick_params(labelsize=8)
    return fig


def write_report(o: CiOutcome, path: Path) -> list[Path]:
    """The report and its plots; the files written."""
    folder = path.parent
    lines = [_headline(o), ""]
    written: list[Path] = []
    if o.gates is not None:
        lines += [
            f"Candidate: v{o.version}, the model of step `{o.step}` (run `{(o.run_id or '')[:12]}`); "
            + (f"champion: v{o.champion}." if o.champion else "no champion yet."),
            "",
            *metrics_section(o),
            "",
            *gates_section(o),
            "",
        ]
        _save(_metrics_figure(o), folder / METRICS_PNG, written)
        lines += [f"![metrics]({METRICS_PNG})", ""]
    lines += [*steps_section(o), ""]
    if o.gates is not None:
        lines += [*drift_section(o), ""]
        if o.drift:
            _save(_drift_figure(o), folder / DRIFT_PNG, written)
            lines += [f"![training data drift]({DRIFT_PNG})", ""]
    write_text(path, "\n".join(lines))
    return [path, *written]


def _save(fig: Any, path: Path, written: list[Path]) -> None:
    fig.savefig(path, dpi=110)
    written.append(path)
