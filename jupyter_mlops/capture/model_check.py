"""Refuse, at ``log_model``, a model that could not be loaded back and served.

A logged model is only useful if ``mlflow.pyfunc.load_model(...).predict(frame)`` works: the
object must be a fitted model of a known flavor (``flavors.registry``), or an instance with a
``predict`` method (saved by pickling, as scikit-learn models are). A plain function, a class, an
object that cannot predict or an unfitted model is one clear error at the cell.
"""

from __future__ import annotations

import logging
from typing import Any

from ..errors import InvalidInput
from ..flavors.protocol import ModelFlavor
from ..flavors.registry import model_flavors

log = logging.getLogger("jupyter_mlops.capture")


def check_servable(model: Any, name: str) -> ModelFlavor | None:
    """The flavor of ``model`` (None: pickled as a plain predicting object); raises
    InvalidInput naming ``name`` unless ``model`` can be saved, loaded and predicted."""
    kind = type(model).__name__
    if isinstance(model, type):
        raise InvalidInput(
            f"model {name!r} is the class {model.__name__}, not a fitted model",
            hint="fit an instance first: log_model(Model().fit(X, y))",
        )
    flavor = model_flavors.flavor_for(model)
    predicts = getattr(flavor, "predicts", None)
    if callable(predicts):
        no_predict = not predicts(model)
    else:
        no_predict = flavor is None and not callable(getattr(model, "predict", None))
    if no_predict:
        raise InvalidInput(
            f"model {name!r} is a {kind}, which has no predict method, so it could not be served",
            hint="log fitted models of scikit-learn, XGBoost, LightGBM, CatBoost, statsmodels, "
            "PyTorch or Keras, or objects with predict; keep other objects with log_artifact",
        )
    if flavor is not None and _unfitted(flavor, model):
        raise InvalidInput(
            f"model {name!r} ({kind}) is not fitted", hint="fit it before logging it"
        )
    return flavor


def _unfitted(flavor: ModelFlavor, model: Any) -> bool:
    try:
        return flavor.fitted(model) is None
    except Exception:  # the flavor cannot tell: let the replayer try
        return False


def own_params(flavor: ModelFlavor | None, model: Any) -> dict[str, Any]:
    """The model's own hyperparameters ({} when its flavor cannot tell)."""
    if flavor is None:
        return {}
    try:
        return dict(flavor.params(model))
    except Exception:
        log.debug("params of %r failed", type(model), exc_info=True)
        return {}


def expected_prediction(flavor: ModelFlavor | None, model: Any, example: Any) -> Any:
    """What the model predicts in memory on its example, for the pyfunc check (None: unknown)."""
    if example is None:
        return None
    try:
        return flavor.predict(model, example) if flavor is not None else model.predict(example)
    except Exception:
        log.debug("in-memory prediction of %r failed", type(model), exc_info=True)
        return None
