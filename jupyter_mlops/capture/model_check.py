"""Refuse, at ``log_model``, a model that could not be loaded back and served.

A logged model is only useful if ``mlflow.pyfunc.load_model(...).predict(frame)`` works: the
object must be an instance with a ``predict`` method and, for scikit-learn estimators, fitted.
A plain function, a class, a torch-like module or an unfitted estimator used to be accepted,
given an id, and left a model nothing could load; now it is one clear error at the cell.
"""

from __future__ import annotations

import sys
from typing import Any

from ..errors import InvalidInput


def check_servable(model: Any, name: str) -> None:
    """Raise InvalidInput naming ``name`` unless ``model`` can be saved, loaded and predicted."""
    kind = type(model).__name__
    if isinstance(model, type):
        raise InvalidInput(
            f"model {name!r} is the class {model.__name__}, not a fitted model",
            hint="fit an instance first: log_model(Model().fit(X, y))",
        )
    if not callable(getattr(model, "predict", None)):
        raise InvalidInput(
            f"model {name!r} is a {kind}, which has no predict method, so it could not be served",
            hint="log scikit-learn-style models (fit/predict); keep other objects with log_artifact",
        )
    if "sklearn" in sys.modules and _unfitted(model):
        raise InvalidInput(
            f"model {name!r} ({kind}) is not fitted", hint="call .fit(X, y) before logging it"
        )


def _unfitted(model: Any) -> bool:
    from sklearn.base import BaseEstimator
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    if not isinstance(model, BaseEstimator):
        return False
    try:
        check_is_fitted(model)
    except NotFittedError:
        return True
    except TypeError:  # not an estimator by scikit-learn's own rules: nothing to check
        return False
    return False
