"""Quality from late labels: the prediction log joined to the labels, scored per version and
over time, with scikit-learn's metrics (so the figures are the ones a notebook would compute).

A prediction row meets its label by request id and ``row`` (the predicted row of a batch
request); a label given without a row applies to every row its request predicted. Predictions are placed in time
by when they were made, not when their label came: "accuracy over the last day" is the accuracy
of the last day's predictions that have labels so far. Shadow predictions (a canary served in
shadow) are scored as their version but never count in the served figures (``all``).

Classifiers: accuracy, precision, recall (macro-averaged beyond two classes) and AUC (two
classes; on the logged score named by ``monitor.quality.score``, else on the prediction itself).
Regressors: MAE and RMSE. The task is ``monitor.quality.task``, else guessed: labels that are
text, booleans or a few whole numbers (at most 20 values) make a classifier.

``current_quality(gw, model, window_s)`` is the figure the loop's quality trigger watches.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..store.gateway import Gateway
from ..tags import METRIC_PREFIX
from .labels import ID_COLUMN, LABEL_COLUMN, ROW_COLUMN, load_labels
from .predlog import OUTPUT_COLUMN, scan_predictions
from .thresholds import QualityThresholds, load_monitor_config

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import pyarrow as pa

CLASSIFIER_METRICS = ("accuracy", "precision", "recall", "auc")
REGRESSOR_METRICS = ("mae", "rmse")
HIGHER_IS_BETTER = frozenset(CLASSIFIER_METRICS)
MAX_CLASSES_GUESSED = 20
SERVED = "all"  # the figures of every version that really served (shadow excluded)


def joined_frame(
    table: pa.Table, labels: pd.DataFrame, th: QualityThresholds | None = None
) -> pd.DataFrame:
    """Prediction rows with their label: ts, version, alias, request_id, row, prediction,
    score (when logged), label, and label_row (the row the label named; NA for a label of the
    whole request). Rows without a label, failed requests and rows without a request id are
    left out."""
    import pandas as pd
    import pyarrow.compute as pc

    th = th or QualityThresholds()
    columns = [
        "ts",
        "version",
        "alias",
        ID_COLUMN,
        ROW_COLUMN,
        "prediction",
        "score",
        LABEL_COLUMN,
        "label_row",
    ]
    prediction = th.prediction or OUTPUT_COLUMN
    if table.num_rows == 0 or labels.empty or prediction not in table.column_names:
        empty: pd.DataFrame = pd.DataFrame(columns=columns)
        return empty
    ok = pc.and_(pc.fill_null(pc.equal(table["status"], 200), False), pc.is_valid(table[ID_COLUMN]))
    wanted = ["ts", "version", "alias", ID_COLUMN, ROW_COLUMN, "n_rows", prediction]
    if th.score and th.score in table.column_names:
        wanted.append(th.score)
    preds = table.filter(ok).select(wanted).to_pandas()
    preds = preds.rename(
        columns={prediction: "prediction", **({th.score: "score"} if th.score else {})}
    )
    if "score" not in preds:
        preds["score"] = math.nan
    preds[ROW_COLUMN] = preds[ROW_COLUMN].astype("Int64")
    by_row = labels[labels[ROW_COLUMN].notna()][[ID_COLUMN, ROW_COLUMN, LABEL_COLUMN]]
    by_request = labels[labels[ROW_COLUMN].isna()][[ID_COLUMN, LABEL_COLUMN]]
    exact = preds.merge(by_row, on=[ID_COLUMN, ROW_COLUMN], how="inner")
    exact["label_row"] = exact[ROW_COLUMN]
    whole = preds.merge(by_request, on=ID_COLUMN, how="inner")
    whole["label_row"] = pd.array([pd.NA] * len(whole), dtype="Int64")
    frame = pd.concat([exact, whole], ignore_index=True)
    frame = frame.drop_duplicates(["version", "alias", ID_COLUMN, ROW_COLUMN], keep="first")
    joined: pd.DataFrame = frame.sort_values("ts", kind="stable")[columns].reset_index(drop=True)
    return joined


def _numeric(values: pd.Series) -> np.ndarray | None:
    import pandas as pd

    if values.dtype == bool or str(values.dtype) == "boolean":
        return values.astype(float).to_numpy()
    converted = pd.to_numeric(values, errors="coerce")
    return None if converted.isna().any() else converted.to_numpy(dtype=float)


def infer_task(labels: pd.Series) -> str:
    """``classification`` for text, booleans or a few whole numbers; else ``regression``."""
    numbers = _numeric(labels)
    if numbers is None or labels.dtype == bool:
        return "classification"
    whole = bool(len(numbers)) and bool((numbers == numbers.round()).all())
    return "classification" if whole and len(set(numbers)) <= MAX_CLASSES_GUESSED else "regression"


def _positive(classes: list[Any], th: QualityThresholds) -> Any:
    if th.positive is not None:
        for c in classes:
            if str(c) == str(th.positive):
                return c
    for candidate in (1, True, "1", "yes", "true"):
        if candidate in classes:
            return candidate
    return sorted(classes, key=str)[-1]


def _classifier_figures(frame: pd.DataFrame, th: QualityThresholds) -> dict[str, float]:
    import numpy as np
    from sklearn.metrics import accuracy_score, precision_score, recall_score, roc_auc_score

    y_num, p_num = _numeric(frame[LABEL_COLUMN]), _numeric(frame["prediction"])
    score = frame["score"].to_numpy(dtype=float, na_value=np.nan)
    if y_num is not None and p_num is not None:
        y, p = y_num, p_num
        if not (p == p.round()).all() and set(np.unique(y)) <= {0.0, 1.0}:
            score, p = p, (p >= 0.5).astype(float)  # a probability logged as the prediction
    else:
        y, p = (
            frame[LABEL_COLUMN].astype(str).to_numpy(),
            frame["prediction"].astype(str).to_numpy(),
        )
    classes = sorted(set(y.tolist()) | set(p.tolist()), key=str)
    out = {"accuracy": float(accuracy_score(y, p))}
    if len(classes) <= 2:
        pos = _positive(classes, th)
        out["precision"] = float(precision_score(y, p, pos_label=pos, zero_division=0))
        out["recall"] = float(recall_score(y, p, pos_label=pos, zero_division=0))
        truth = y == pos
        if truth.any() and not truth.all():
            ranked = score if not np.isnan(score).any() else (p == pos).astype(float)
            out["auc"] = float(roc_auc_score(truth, ranked))
    else:
        out["precision"] = float(precision_score(y, p, average="macro", zero_division=0))
        out["recall"] = float(recall_score(y, p, average="macro", zero_division=0))
    return out


def _regressor_figures(frame: pd.DataFrame) -> dict[str, float]:
    from sklearn.metrics import mean_absolute_error, mean_squared_error

    y, p = _numeric(frame[LABEL_COLUMN]), _numeric(frame["prediction"])
    if y is None or p is None:
        return {}
    return {
        "mae": float(mean_absolute_error(y, p)),
        "rmse": float(math.sqrt(mean_squared_error(y, p))),
    }


def figures(
    frame: pd.DataFrame, task: str, th: QualityThresholds | None = None
) -> dict[str, float]:
    """The quality figures of a joined frame (empty for an empty frame)."""
    if frame.empty:
        return {}
    if task == "classification":
        return _classifier_figures(frame, th or QualityThresholds())
    return _regressor_figures(frame)


def task_of(frame: pd.DataFrame, th: QualityThresholds) -> str:
    return th.task if th.task != "auto" else infer_task(frame[LABEL_COLUMN])


def by_version(frame: pd.DataFrame, task: str, th: QualityThresholds) -> dict[str, dict[str, Any]]:
    """``{version: {"labeled": n, "metrics": {...}}}``, plus ``all`` over the served rows."""
    out: dict[str, dict[str, Any]] = {}
    for version, part in frame.groupby("version", sort=True):
        out[str(version)] = {"labeled": len(part), "metrics": figures(part, task, th)}
    served = frame[frame["alias"] != "shadow"]
    if len(out) > 1 or (len(served) != len(frame) and not served.empty):
        out[SERVED] = {"labeled": len(served), "metrics": figures(served, task, th)}
    return out


def over_time(
    frame: pd.DataFrame, task: str, th: QualityThresholds, since: float, until: float, buckets: int
) -> list[dict[str, Any]]:
    """Figures per time bucket (by prediction time) and version, buckets with labels only."""
    import numpy as np

    if frame.empty:
        return []
    width = max((until - since) / buckets, 1e-6)
    index = np.clip(((frame["ts"].to_numpy() - since) // width).astype(int), 0, buckets - 1)
    out = []
    for b in sorted(set(index.tolist())):
        part = frame[index == b]
        for version, rows in part.groupby("version", sort=True):
            out.append(
                {
                    "bucket_start": since + b * width,
                    "version": str(version),
                    "labeled": len(rows),
                    "metrics": figures(rows, task, th),
                }
            )
    return out


@dataclass
class QualityReport:
    """Quality over a window: per version, over time, and what crossed a threshold."""

    task: str | None = None
    labels: int = 0  # labels known for the model
    predictions: int = 0  # served predictions in the window
    labeled: int = 0  # of which have a label
    by_version: dict[str, dict[str, Any]] = field(default_factory=dict)
    over_time: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)
    alert_keys: list[str] = field(default_factory=list)  # "v3:accuracy": what an event names
    problems: list[str] = field(default_factory=list)

    @property
    def coverage(self) -> float | None:
        return self.labeled / self.predictions if self.predictions else None

    def lines(self) -> list[str]:
        """The report's text block."""
        cover = f"{self.coverage:.1%}" if self.coverage is not None else "-"
        out = [
            f"Quality ({self.task or 'no labeled predictions'}; {self.labeled} of "
            f"{self.predictions} predictions labeled, {cover}; {self.labels} labels known)"
        ]
        for version, found in self.by_version.items():
            label = version if version == SERVED else f"v{version}"
            shown = "  ".join(f"{k} {v:.4g}" for k, v in found["metrics"].items())
            out.append(f"  {label:<10}{found['labeled']:>8} labeled  {shown}")
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "labels": self.labels,
            "predictions": self.predictions,
            "labeled": self.labeled,
            "coverage": self.coverage,
            "by_version": self.by_version,
            "over_time": self.over_time,
        }


def _served_predictions(table: pa.Table) -> int:
    import pyarrow.compute as pc

    if table.num_rows == 0:
        return 0
    ok = pc.and_(
        pc.fill_null(pc.equal(table["status"], 200), False),
        pc.invert(pc.fill_null(pc.equal(table["alias"], "shadow"), False)),
    )
    return int(pc.sum(ok).as_py() or 0)


def quality_report(
    gw: Gateway,
    model: str,
    table: pa.Table,
    since: float,
    until: float,
    *,
    th: QualityThresholds | None = None,
    buckets: int = 12,
    validation: dict[str, dict[str, float]] | None = None,
) -> QualityReport:
    """Quality of the predictions in ``table`` (a log window) that have labels; ``validation``:
    each version's figures at validation (``mlops.metric.*``), for ``max_drop``."""
    th = th or load_monitor_config(gw.ws).quality
    labels, problems = load_labels(gw, model)
    report = QualityReport(labels=len(labels), problems=problems)
    report.predictions = _served_predictions(table)
    if labels.empty:
        return report
    frame = joined_frame(table, labels, th)
    if frame.empty:
        report.problems.append(f"none of the {len(labels)} labels meets a prediction in the window")
        return report
    report.task = task_of(frame, th)
    report.labeled = int((frame["alias"] != "shadow").sum())
    report.by_version = by_version(frame, report.task, th)
    report.over_time = over_time(frame, report.task, th, since, until, buckets)
    judge_quality(report, th, validation or {})
    return report


def judge_quality(
    report: QualityReport, th: QualityThresholds, validation: dict[str, dict[str, float]]
) -> None:
    """Alerts for each version with enough labels whose figure crossed ``min``, ``max`` or fell
    more than ``max_drop`` below its figure at validation."""
    for version, q in report.by_version.items():
        if version == SERVED or q["labeled"] < th.min_labels:
            continue
        for name, value in q["metrics"].items():
            why = _crossed(name, value, th, validation.get(version, {}).get(name))
            if why:
                report.alerts.append(f"v{version}: {why} ({q['labeled']} labeled)")
                report.alert_keys.append(f"v{version}:{name}")


def _crossed(name: str, value: float, th: QualityThresholds, at_validation: float | None) -> str:
    floor, ceiling = th.min.get(name), th.max.get(name)
    if floor is not None and value < floor:
        return f"{name} {value:.3g} < {floor:g}"
    if ceiling is not None and value > ceiling:
        return f"{name} {value:.3g} > {ceiling:g}"
    if th.max_drop is None or name not in HIGHER_IS_BETTER or at_validation is None:
        return ""
    drop = at_validation - value
    if drop <= th.max_drop:
        return ""
    return (
        f"{name} {value:.3g} is {drop:.3g} below its validation figure "
        f"{at_validation:.3g} (max drop {th.max_drop:g})"
    )


def validation_figures(gw: Gateway, model: str, table: pa.Table) -> dict[str, dict[str, float]]:
    """Each logged version's figures at validation (its ``mlops.metric.*`` tags), for
    ``max_drop``; versions the registry does not know are left out."""
    if table.num_rows == 0:
        return {}
    from mlflow.exceptions import MlflowException

    out: dict[str, dict[str, float]] = {}
    versions = {str(v) for v in table["version"].unique().to_pylist() if v and str(v).isdigit()}
    for version in sorted(versions, key=int):
        try:
            tags = gw.client.get_model_version(model, version).tags
        except MlflowException:
            continue
        out[version] = {}
        for key, value in tags.items():
            if key.startswith(METRIC_PREFIX):
                try:
                    out[version][key[len(METRIC_PREFIX) :]] = float(value)
                except ValueError:
                    continue
    return out


def current_quality(gw: Gateway, model: str, window_s: float) -> dict[str, float]:
    """Quality of the predictions served in the last ``window_s`` seconds that have labels,
    across every version that served (shadow excluded): metric name -> value; empty when no
    prediction of the window has a label yet. The loop's quality trigger watches it."""
    th = load_monitor_config(gw.ws).quality
    labels, _ = load_labels(gw, model)
    if labels.empty:
        return {}
    until = time.time()
    table = scan_predictions(gw, model, since=until - window_s, until=until + 1).table
    frame = joined_frame(table, labels, th)
    served = frame[frame["alias"] != "shadow"]
    return figures(served, task_of(served, th), th) if not served.empty else {}
