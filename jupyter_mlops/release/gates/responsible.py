"""Responsible-AI gates: fairness across a sensitive feature (fairlearn) and permutation
importance, both recorded as numbers and drawn as charts for the model card."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...errors import InvalidInput
from .evaluation import EvaluationData, compute_metric
from .result import GateResult


def fairness_gate(
    spec: dict[str, Any], data: EvaluationData, y_pred: Any, out_dir: Path
) -> tuple[GateResult, Path]:
    import numpy as np
    from fairlearn.metrics import MetricFrame, selection_rate

    col = spec["sensitive"]
    if col not in data.X.columns:
        raise InvalidInput(
            f"fairness: sensitive feature {col!r} is not a column of the evaluation data"
        )
    metric = spec["metric"]
    groups = data.X[col]
    if spec.get("bins"):  # a numeric feature judged by quantile buckets (e.g. size or age bands)
        import pandas as pd

        bands = pd.qcut(groups, int(spec["bins"]), duplicates="drop")
        groups = bands.map(lambda b: f"{b.left:.4g}-{b.right:.4g}").astype(str)
    fn = (
        selection_rate
        if metric == "selection_rate"
        else (lambda yt, yp: compute_metric(metric, yt, yp))
    )
    frame = MetricFrame(
        metrics={metric: fn},
        y_true=np.asarray(data.y),
        y_pred=np.asarray(y_pred),
        sensitive_features=groups,
    )
    by_group = {str(k): float(v) for k, v in frame.by_group[metric].items()}
    counts = groups.astype(str).value_counts().to_dict()
    disparity = float(frame.difference(method="between_groups")[metric])
    ok = disparity <= spec["max_disparity"]
    worst = min(by_group, key=lambda g: by_group[g])
    reason = (
        f"{metric} by {col}: "
        + ", ".join(f"{g}={v:.3f}" for g, v in by_group.items())
        + f"; largest gap {disparity:.3f} (worst group {worst})"
    )
    chart = _bar_chart(
        by_group,
        out_dir / "fairness.png",
        f"{metric} by {col} (gap {disparity:.3f})",
        horizontal=False,
    )
    details = {
        "metric": metric,
        "sensitive": col,
        "by_group": by_group,
        "counts": {str(k): int(v) for k, v in counts.items()},
        "overall": float(frame.overall[metric]),
    }
    return GateResult(
        "fairness",
        "responsible",
        ok,
        round(disparity, 4),
        f"gap <= {spec['max_disparity']}",
        reason,
        details,
    ), chart


class _Scorer:
    """Lets sklearn's permutation_importance call any pyfunc model."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def fit(self, X: Any, y: Any) -> _Scorer:
        return self

    def predict(self, X: Any) -> Any:
        return self.model.predict(X)


def importance_gate(
    spec: dict[str, Any], model: Any, data: EvaluationData, metric: str, out_dir: Path
) -> tuple[GateResult, Path]:
    import numpy as np
    from sklearn.inspection import permutation_importance

    X = data.X.head(2000)
    y = np.asarray(data.y)[: len(X)]

    def score(est: Any, Xp: Any, yp: Any) -> float:
        value = compute_metric(metric, yp, est.predict(Xp))
        return -value if metric in ("rmse", "mae") else value

    res = permutation_importance(
        _Scorer(model), X, y, scoring=score, n_repeats=int(spec.get("n_repeats", 3)), random_state=0
    )
    imp = {str(c): float(m) for c, m in zip(X.columns, res.importances_mean, strict=True)}
    ranked = sorted(imp, key=lambda c: imp[c], reverse=True)
    top = ranked[: int(spec["top"])]
    forbidden = [c for c in spec.get("forbid", []) if c in top]
    ok = not forbidden
    reason = "top features: " + ", ".join(f"{c} ({imp[c]:.3f})" for c in top)
    if forbidden:
        reason = f"forbidden feature(s) {forbidden} among the top {len(top)}; " + reason
    chart = _bar_chart(
        {c: imp[c] for c in reversed(top)},
        out_dir / "importance.png",
        f"permutation importance ({metric} drop)",
        horizontal=True,
    )
    return GateResult(
        "importance",
        "responsible",
        ok,
        top[0] if top else None,
        f"not in top {len(top)}: {spec.get('forbid') or '-'}",
        reason,
        {"importance": imp, "top": top},
    ), chart


def _bar_chart(values: dict[str, float], path: Path, title: str, *, horizontal: bool) -> Path:
    from matplotlib.figure import Figure  # no pyplot: leaves the user's backend alone

    fig = Figure(figsize=(5, 3), dpi=100)
    ax = fig.subplots()
    names, nums = list(values), list(values.values())
    (ax.barh if horizontal else ax.bar)(names, nums, color="#4c72b0")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    return path
