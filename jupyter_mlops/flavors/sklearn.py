"""scikit-learn estimators (and Pipelines), saved with ``mlflow.sklearn`` as cloudpickle.

cloudpickle, not skops: skops refuses e.g. RandomForest without trusted types, and models are
only loaded back from the workspace's own store. A fitted estimator is told apart from an unfitted
one by its fitted attributes (``coef_``, ``estimators_``...): their identities form the marker, so
fitting again (new attribute objects) changes it without any patching of ``fit``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from .protocol import FeatureHint

# the ids of an estimator's fitted attributes (and its pipeline steps'): they change on refit
Marker = tuple[tuple[str, int], ...]


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


def _quiet_pickle_warning(record: logging.LogRecord) -> bool:
    # cloudpickle is chosen on purpose (see module docstring); loading is restricted instead
    return "pickle or cloudpickle" not in record.getMessage()


def first_step(est: Any) -> Any:
    """The estimator that sees the raw input: a Pipeline's first real step, else ``est``."""
    for _ in range(4):
        steps = getattr(est, "steps", None)
        if not steps:
            return est
        est = next((s for _, s in steps if s is not None and s != "passthrough"), est)
    return est


class SklearnFlavor:
    name = "sklearn"
    library = "sklearn"
    requirements: tuple[str, ...] = ("scikit-learn", "cloudpickle", "numpy", "pandas", "scipy")

    def recognises(self, obj: Any) -> bool:
        from sklearn.base import BaseEstimator

        return isinstance(obj, BaseEstimator)

    def fitted(self, obj: Any) -> Any:
        return _marker(obj) or None

    def predicts(self, obj: Any) -> bool:
        """A fitted transformer (a StandardScaler) is not a model to serve."""
        return callable(getattr(obj, "predict", None))

    def params(self, obj: Any) -> dict[str, Any]:
        deep = not hasattr(obj, "param_grid") and not hasattr(obj, "param_distributions")
        return dict(obj.get_params(deep=deep))

    def features(self, obj: Any) -> FeatureHint:
        names = getattr(obj, "feature_names_in_", None)
        text = callable(getattr(first_step(obj), "build_analyzer", None))
        coef = getattr(obj, "coef_", None)
        return FeatureHint(
            n_features=getattr(obj, "n_features_in_", None),
            names=[str(n) for n in names] if names is not None else None,
            text=text,
            dtype=str(getattr(coef, "dtype", None)) if hasattr(coef, "dtype") else None,
        )

    def predict(self, obj: Any, data: Any) -> Any:
        return obj.predict(data)

    def save(
        self, obj: Any, path: Path, *, signature: Any, input_example: Any, requirements: list[str]
    ) -> None:
        import mlflow.sklearn

        sk_log = logging.getLogger("mlflow.sklearn")
        if _quiet_pickle_warning not in sk_log.filters:
            sk_log.addFilter(_quiet_pickle_warning)
        mlflow.sklearn.save_model(
            obj,
            path=str(path),
            serialization_format="cloudpickle",
            pip_requirements=requirements,
            signature=signature,
            input_example=input_example,
        )
