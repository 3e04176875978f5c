"""The evaluation data the gates run on, and the metrics they compare.

Gates judge every candidate on the same named data: a dataset version (``dataset: NAME[@VER]``)
or a file inside the project (``path:``). Its fingerprint is recorded with the gate run, so a
verdict can always be traced to the exact rows it was computed on.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ...datasets.versions import load, resolve
from ...errors import InvalidInput, NotFound

if TYPE_CHECKING:
    from ...store.gateway import Gateway

KNOWN_METRICS = ("accuracy", "f1", "precision", "recall", "roc_auc", "r2", "rmse", "mae")
LOWER_IS_BETTER = ("rmse", "mae")


@dataclass
class EvaluationData:
    X: Any  # DataFrame of features
    y: Any  # Series of labels
    name: str
    digest: str
    path: str | None = None


def load_evaluation(
    gw: Gateway, spec: dict[str, Any], feature_names: list[str] | None
) -> EvaluationData:
    import pandas as pd

    ws = gw.ws
    target = spec["target"]
    known_digest = None
    if spec.get("dataset"):
        ref = str(spec["dataset"])
        version = resolve(gw, ref)  # NotFound names the dataset and its versions
        df = load(gw, version)
        label, path, known_digest = f"{version.name}@{version.digest[:12]}", None, version.digest
    else:
        file = (ws.root / str(spec["path"])).resolve()
        if not ws.contains(file):
            raise InvalidInput(f"evaluation.path {spec['path']!r} is outside the project")
        if not file.is_file():
            raise NotFound(
                f"evaluation data {spec['path']!r} not found", hint=f"looked in {ws.root}"
            )
        df = pd.read_parquet(file) if file.suffix in (".parquet", ".pq") else pd.read_csv(file)
        label, path = str(spec["path"]), str(file)
    if target not in df.columns:
        raise InvalidInput(f"evaluation data {label!r} has no target column {target!r}")
    features = [c for c in (feature_names or df.columns) if c != target]
    missing = [c for c in features if c not in df.columns]
    if missing:
        raise InvalidInput(f"evaluation data {label!r} lacks the model's columns {missing}")
    digest = (
        known_digest
        or hashlib.sha256(
            pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes()
        ).hexdigest()[:16]
    )
    return EvaluationData(df[features], df[target], label, digest, path)


def compute_metric(name: str, y_true: Any, y_pred: Any) -> float:
    import numpy as np
    from sklearn import metrics as m

    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    binary = len(np.unique(y_true)) <= 2
    avg = "binary" if binary else "macro"
    if name == "accuracy":
        return float(m.accuracy_score(y_true, y_pred))
    if name == "f1":
        return float(m.f1_score(y_true, y_pred, average=avg, zero_division=0))
    if name == "precision":
        return float(m.precision_score(y_true, y_pred, average=avg, zero_division=0))
    if name == "recall":
        return float(m.recall_score(y_true, y_pred, average=avg, zero_division=0))
    if name == "roc_auc":
        return float(m.roc_auc_score(y_true, y_pred))
    if name == "r2":
        return float(m.r2_score(y_true, y_pred))
    if name == "rmse":
        return float(np.sqrt(m.mean_squared_error(y_true, y_pred)))
    if name == "mae":
        return float(m.mean_absolute_error(y_true, y_pred))
    raise InvalidInput(f"unknown metric {name!r}")


def better_delta(name: str, candidate: float, champion: float) -> float:
    """Improvement of candidate over champion (positive = better) whatever the metric's direction."""
    return (champion - candidate) if name in LOWER_IS_BETTER else (candidate - champion)
