"""Which scikit-learn estimators a cell fitted, and which data they were fitted on.

Before the cell we note, for every estimator in the namespace, the identities of its fitted
attributes (``coef_``, ``estimators_``...). Fitting creates new attribute objects, so after the
cell an estimator whose marker changed (or that is new and fitted) was fitted by this cell. No
patching of ``fit``, so nothing slows the user's code.

Only estimators that predict become MLflow models (a model is something to serve). A fitted
transformer on its own (a StandardScaler) is named in a tag of the run instead: MLflow would log it
with red warnings and no python_function flavour, so nothing could load it to predict anyway.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from ..limits import LIST_TEXT
from ..tags import FITTED_WITHOUT_PREDICT_TAG

# the ids of an estimator's fitted attributes (and its pipeline steps'): they change on refit
Marker = tuple[tuple[str, int], ...]

EXAMPLE_ROWS = 5

log = logging.getLogger("jupyter_mlops.capture")


def _is_estimator(obj: Any) -> bool:
    if "sklearn" not in sys.modules or isinstance(obj, type):
        return False
    from sklearn.base import BaseEstimator

    return isinstance(obj, BaseEstimator)


def _marker(est: Any, depth: int = 0) -> Marker:
    try:
        attrs = vars(est)
    except TypeError:
        return ()
    mark = tuple((k, id(v)) for k, v in attrs.items() if k.endswith("_") and not k.startswith("_"))
    if depth < 3:
        for _, step in getattr(est, "steps", None) or []:
            if step is not None and step != "passthrough":
                mark += _marker(step, depth + 1)
    return mark


def snapshot(user_ns: dict[str, Any]) -> dict[str, tuple[int, Marker]]:
    if "sklearn" not in sys.modules:
        return {}
    return {
        name: (id(obj), _marker(obj))
        for name, obj in list(user_ns.items())
        if not name.startswith("_") and _is_estimator(obj)
    }


def fitted_since(before: dict[str, tuple[int, Marker]], user_ns: dict[str, Any]) -> dict[str, Any]:
    """name -> estimator for estimators fitted (or refitted) since ``before``."""
    fitted = {}
    for name, (ident, mark) in snapshot(user_ns).items():
        if not mark:
            continue
        old = before.get(name)
        if old is None or old != (ident, mark):
            fitted[name] = user_ns[name]
    return fitted


def predicts(est: Any) -> bool:
    """Whether ``est`` can serve predictions (a Pipeline can when its last step can)."""
    return callable(getattr(est, "predict", None))


def _rows(obj: Any, n: int) -> Any:
    return obj.iloc[:n] if hasattr(obj, "iloc") else obj[:n]


def find_training_example(est: Any, user_ns: dict[str, Any]) -> Any | None:
    """A few rows of data shaped like what ``est`` was fitted on, found in the namespace."""
    names = getattr(est, "feature_names_in_", None)
    n_features = getattr(est, "n_features_in_", None)
    if n_features is None:
        return None
    candidates = []
    for var, obj in user_ns.items():
        if var.startswith("_"):
            continue
        shape = getattr(obj, "shape", None)
        if not isinstance(shape, tuple) or len(shape) != 2 or shape[1] != n_features:
            continue
        if names is not None:
            cols = getattr(obj, "columns", None)
            if cols is None or list(cols) != list(names):
                continue
        score = (("train" in var.lower()) * 2) + (var.lower().startswith("x"))
        candidates.append((score, shape[0], var))
    if not candidates:
        return None
    candidates.sort(reverse=True)
    return _rows(user_ns[candidates[0][2]], EXAMPLE_ROWS)


def log_fitted_models(
    run: Any, before: dict[str, tuple[int, Marker]], user_ns: dict[str, Any]
) -> list[str]:
    """Log every predicting estimator fitted since ``before`` on ``run``, named after its variable;
    the others are listed in one tag."""
    names, others = [], []
    for name, est in fitted_since(before, user_ns).items():
        if not predicts(est):
            others.append(f"{name} ({type(est).__name__})")
            continue
        run.log_model(est, name=name, X=find_training_example(est, user_ns))
        names.append(name)
    if others:
        listed = ", ".join(others)
        run.set_tags({FITTED_WITHOUT_PREDICT_TAG: listed[:LIST_TEXT]})
        log.debug("fitted, not logged as models (they do not predict): %s", listed)
    return names
