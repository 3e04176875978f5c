"""Technical gates: metric thresholds, comparison with the champion, signature compatibility,
latency and size budgets."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from .evaluation import EvaluationData, better_delta, compute_metric
from .result import GateResult


def metric_gates(spec: dict[str, Any], metrics: dict[str, float]) -> list[GateResult]:
    out = []
    for name, bounds in spec.items():
        value = metrics[name]
        lo, hi = bounds.get("min"), bounds.get("max")
        ok = (lo is None or value >= lo) and (hi is None or value <= hi)
        thr = " ".join(
            p
            for p in (f">= {lo}" if lo is not None else "", f"<= {hi}" if hi is not None else "")
            if p
        )
        reason = f"{name} {value:.4g} {'meets' if ok else 'misses'} {thr}"
        out.append(GateResult(f"metrics.{name}", "technical", ok, value, thr, reason))
    return out


def champion_gate(
    spec: dict[str, Any],
    candidate: dict[str, float],
    champion_metrics: dict[str, float] | None,
    champion_version: str | None,
) -> GateResult:
    metric = spec["metric"]
    if champion_metrics is None:
        return GateResult(
            "champion", "technical", True, None, None, "no champion yet: nothing to compare with"
        )
    cand, champ = candidate[metric], champion_metrics[metric]
    delta = better_delta(metric, cand, champ)
    rel = delta / abs(champ) if champ else (0.0 if delta == 0 else float("inf"))
    checks, thr = [], []
    if "min_delta" in spec:
        checks.append(delta >= spec["min_delta"])
        thr.append(f"delta >= {spec['min_delta']:+g}")
    if "min_relative" in spec:
        checks.append(rel >= spec["min_relative"])
        thr.append(f"relative >= {spec['min_relative']:+.1%}")
    ok = all(checks)
    reason = (
        f"{metric} {cand:.4g} vs champion v{champion_version} {champ:.4g}: "
        f"{'better' if delta > 0 else 'worse' if delta < 0 else 'equal'} by {abs(delta):.4g} ({rel:+.1%})"
    )
    return GateResult(
        "champion",
        "technical",
        ok,
        round(delta, 6),
        ", ".join(thr),
        reason,
        {"candidate": cand, "champion": champ, "relative": rel},
    )


def signature_gate(candidate_model: Any, champion_model: Any | None) -> GateResult:
    """The candidate must accept every request the champion accepts (same columns and types)."""
    if champion_model is None:
        return GateResult("signature", "technical", True, None, None, "no champion yet")
    cand = candidate_model.metadata.get_input_schema()
    champ = champion_model.metadata.get_input_schema()
    if cand is None or champ is None:
        ok = cand is None and champ is None
        return GateResult(
            "signature",
            "technical",
            ok,
            None,
            None,
            "both without a signature" if ok else "one of the two models has no signature",
        )
    ctypes = {c.name: str(c.type) for c in cand.inputs} if cand.has_input_names() else {}
    htypes = {c.name: str(c.type) for c in champ.inputs} if champ.has_input_names() else {}
    problems = [f"column {n!r} missing" for n in htypes if n not in ctypes]
    problems += [
        f"column {n!r} is {ctypes[n]}, was {t}"
        for n, t in htypes.items()
        if n in ctypes and ctypes[n] != t
    ]
    required_new = [
        c.name for c in cand.inputs if c.name not in htypes and getattr(c, "required", True)
    ]
    problems += [f"new required column {n!r}" for n in required_new]
    ok = not problems
    return GateResult(
        "signature",
        "technical",
        ok,
        len(problems),
        0,
        "compatible with the champion" if ok else "; ".join(problems),
    )


def latency_gate(spec: dict[str, Any], model: Any, data: EvaluationData) -> GateResult:
    import numpy as np

    n = int(spec.get("n", 200))
    X = data.X
    rows = [X.iloc[[i % len(X)]] for i in range(min(n, len(X)))]
    model.predict(rows[0])  # warm-up
    times = []
    for i in range(n):
        t0 = time.perf_counter()
        model.predict(rows[i % len(rows)])
        times.append((time.perf_counter() - t0) * 1000.0)
    p50, p95 = float(np.percentile(times, 50)), float(np.percentile(times, 95))
    ok = p95 <= spec["p95_ms"]
    return GateResult(
        "latency",
        "technical",
        ok,
        round(p95, 3),
        f"p95 <= {spec['p95_ms']} ms",
        f"p95 {p95:.2f} ms, p50 {p50:.2f} ms over {n} single-row predictions",
        {"p50_ms": p50, "n": n},
    )


def folder_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def size_gate(spec: dict[str, Any], model_dir: Path) -> GateResult:
    mb = folder_size(model_dir) / 1e6
    ok = mb <= spec["max_mb"]
    return GateResult(
        "size",
        "technical",
        ok,
        round(mb, 3),
        f"<= {spec['max_mb']} MB",
        f"model files take {mb:.2f} MB",
    )


def evaluate_metrics(names: list[str], y_true: Any, y_pred: Any) -> dict[str, float]:
    out = {}
    for name in names:
        try:
            out[name] = compute_metric(name, y_true, y_pred)
        except ValueError:
            continue  # e.g. a classification metric on a regression target
    return out
