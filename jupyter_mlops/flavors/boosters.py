"""XGBoost and LightGBM: their native Boosters and their scikit-learn-style models, saved with
MLflow's own ``mlflow.xgboost`` and ``mlflow.lightgbm`` flavors (what MLflow users expect).

A Booster from ``xgb.train`` / ``lgb.train`` keeps no record of the dict it was trained with (the
tracked cell reads that from its code, see ``capture.params``); its own config is the fallback.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .protocol import FeatureHint

# sections of an XGBoost Booster's saved config that hold the training parameters
_XGB_CONFIG_SECTIONS = (
    ("learner", "learner_train_param"),
    ("learner", "gradient_booster", "tree_train_param"),
    ("learner", "gradient_booster", "gbtree_train_param"),
    ("learner", "learner_model_param"),
)


def _section(config: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    node: Any = config
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else {}


def _unnamed(names: list[str] | None, prefix: str) -> bool:
    """Names a library made up for columns that had none (f0, Column_0...)."""
    return bool(names) and all(n == f"{prefix}{i}" for i, n in enumerate(names or []))


class XGBoostFlavor:
    name = "xgboost"
    library = "xgboost"
    requirements: tuple[str, ...] = ("xgboost", "numpy", "pandas", "scipy")

    def recognises(self, obj: Any) -> bool:
        import xgboost as xgb

        return isinstance(obj, (xgb.Booster, xgb.XGBModel))

    def _booster(self, obj: Any) -> Any:
        import xgboost as xgb

        if isinstance(obj, xgb.Booster):
            return obj
        return obj.get_booster() if getattr(obj, "_Booster", None) is not None else None

    def fitted(self, obj: Any) -> Any:
        booster = self._booster(obj)
        if booster is None:
            return None
        rounds = booster.num_boosted_rounds()
        return (id(booster), rounds) if rounds else None

    def params(self, obj: Any) -> dict[str, Any]:
        import xgboost as xgb

        if isinstance(obj, xgb.XGBModel):
            return {k: v for k, v in obj.get_params().items() if v is not None}
        config = json.loads(obj.save_config())
        found: dict[str, Any] = {}
        for path in _XGB_CONFIG_SECTIONS:
            found.update(_section(config, path))
        found["num_boost_round"] = obj.num_boosted_rounds()
        return found

    def features(self, obj: Any) -> FeatureHint:
        booster = self._booster(obj)
        names = list(booster.feature_names) if booster.feature_names else None
        types = list(booster.feature_types or [])
        categorical = [n for n, t in zip(names or [], types, strict=False) if t == "c"]
        return FeatureHint(
            n_features=booster.num_features(),
            names=None if _unnamed(names, "f") else names,
            categorical=categorical,
        )

    def predict(self, obj: Any, data: Any) -> Any:
        import xgboost as xgb

        if isinstance(obj, xgb.Booster):
            return obj.predict(xgb.DMatrix(data, enable_categorical=True))
        return obj.predict(data)

    def restore_predict_via(self, obj: Any, spec: dict[str, Any]) -> str | None:
        """MLflow's XGBoost pyfunc builds a Booster's DMatrix without categories: the input
        restorer predicts a Booster trained on categories itself."""
        import xgboost as xgb

        cats = any(c.get("categories") is not None for c in spec.get("columns", []))
        return "xgboost_booster" if cats and isinstance(obj, xgb.Booster) else None

    def save(
        self, obj: Any, path: Path, *, signature: Any, input_example: Any, requirements: list[str]
    ) -> None:
        import mlflow.xgboost

        mlflow.xgboost.save_model(
            obj,
            str(path),
            signature=signature,
            input_example=input_example,
            pip_requirements=requirements,
        )


class LightGBMFlavor:
    name = "lightgbm"
    library = "lightgbm"
    requirements: tuple[str, ...] = (
        "lightgbm",
        "cloudpickle",
        "numpy",
        "pandas",
        "scipy",
        "scikit-learn",
    )

    def recognises(self, obj: Any) -> bool:
        import lightgbm as lgb

        return isinstance(obj, (lgb.Booster, lgb.LGBMModel))

    def _booster(self, obj: Any) -> Any:
        import lightgbm as lgb

        if isinstance(obj, lgb.Booster):
            return obj
        return getattr(obj, "_Booster", None)

    def fitted(self, obj: Any) -> Any:
        booster = self._booster(obj)
        if booster is None:
            return None
        return (id(booster), booster.current_iteration())

    def params(self, obj: Any) -> dict[str, Any]:
        import lightgbm as lgb

        if isinstance(obj, lgb.LGBMModel):
            return {k: v for k, v in obj.get_params().items() if v is not None}
        params = dict(obj.params or {})
        params.setdefault("num_iterations", obj.current_iteration())
        return params

    def features(self, obj: Any) -> FeatureHint:
        booster = self._booster(obj)
        names = list(booster.feature_name())
        categorical = []
        if booster.pandas_categorical:
            config = booster.dump_model(num_iteration=0)
            categorical = [names[i] for i in config.get("categorical_feature", [])]
        return FeatureHint(
            n_features=booster.num_feature(),
            names=None if _unnamed(names, "Column_") else names,
            categorical=categorical,
        )

    def predict(self, obj: Any, data: Any) -> Any:
        return obj.predict(data)

    def save(
        self, obj: Any, path: Path, *, signature: Any, input_example: Any, requirements: list[str]
    ) -> None:
        import mlflow.lightgbm

        mlflow.lightgbm.save_model(
            obj,
            str(path),
            signature=signature,
            input_example=input_example,
            pip_requirements=requirements,
        )
