"""The flavors that come with the package, in the order they are asked."""

from __future__ import annotations

from .boosters import LightGBMFlavor, XGBoostFlavor
from .deep import KerasFlavor, TorchFlavor
from .protocol import ModelFlavor
from .sklearn import SklearnFlavor
from .tabular import CatBoostFlavor, StatsmodelsFlavor

# scikit-learn last: XGBoost's, LightGBM's and CatBoost's estimators are BaseEstimators too
BUILTIN_FLAVORS: list[ModelFlavor] = [
    XGBoostFlavor(),
    LightGBMFlavor(),
    CatBoostFlavor(),
    StatsmodelsFlavor(),
    TorchFlavor(),
    KerasFlavor(),
    SklearnFlavor(),
]
