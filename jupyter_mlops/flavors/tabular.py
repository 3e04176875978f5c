"""CatBoost models and statsmodels results, saved with ``mlflow.catboost`` and
``mlflow.statsmodels``.

A statsmodels *model* (``sm.OLS(y, X)``) is recognised but not fitted: only its results (what
``.fit()`` returns) predict and are logged. The results keep their training design matrix, which
gives the input example without searching the namespace; a formula model's example is its
original data frame, as its ``predict`` applies the formula itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .protocol import FeatureHint


class CatBoostFlavor:
    name = "catboost"
    library = "catboost"
    requirements: tuple[str, ...] = ("catboost", "numpy", "pandas", "scipy")

    def recognises(self, obj: Any) -> bool:
        import catboost

        return isinstance(obj, catboost.CatBoost)

    def fitted(self, obj: Any) -> Any:
        if not obj.is_fitted():
            return None
        return (id(obj), obj.tree_count_, id(getattr(obj, "_object", None)))

    def params(self, obj: Any) -> dict[str, Any]:
        return dict(obj.get_params())

    def features(self, obj: Any) -> FeatureHint:
        names = list(obj.feature_names_ or [])
        cats = [names[i] for i in obj.get_cat_feature_indices()] if names else []
        numbered = all(n == str(i) for i, n in enumerate(names))
        return FeatureHint(
            n_features=len(names) or None,
            names=None if numbered else names,
            categorical=cats,
        )

    def predict(self, obj: Any, data: Any) -> Any:
        return obj.predict(data)

    def save(
        self, obj: Any, path: Path, *, signature: Any, input_example: Any, requirements: list[str]
    ) -> None:
        import mlflow.catboost

        mlflow.catboost.save_model(
            obj,
            str(path),
            signature=signature,
            input_example=input_example,
            pip_requirements=requirements,
        )


class StatsmodelsFlavor:
    name = "statsmodels"
    library = "statsmodels"
    requirements: tuple[str, ...] = ("statsmodels", "numpy", "pandas", "scipy", "patsy")

    def recognises(self, obj: Any) -> bool:
        from statsmodels.base.model import Model, Results
        from statsmodels.base.wrapper import ResultsWrapper

        return isinstance(obj, (Model, Results, ResultsWrapper))

    def fitted(self, obj: Any) -> Any:
        from statsmodels.base.model import Model

        return None if isinstance(obj, Model) else id(obj)

    def params(self, obj: Any) -> dict[str, Any]:
        model = obj.model
        found: dict[str, Any] = {"model": type(model).__name__}
        formula = getattr(model, "formula", None)
        if formula:
            found["formula"] = str(formula)
        for key in ("cov_type", "method"):
            value = getattr(obj, key, None)
            if isinstance(value, (str, int, float)):
                found[key] = value
        for key in ("k_exog", "nobs"):
            value = getattr(model, key, None)
            if isinstance(value, (int, float)):
                found[key] = value
        return found

    def features(self, obj: Any) -> FeatureHint:
        model = obj.model
        names = list(getattr(model, "exog_names", None) or [])
        if (
            getattr(model, "formula", None) is not None
            and getattr(model.data, "frame", None) is not None
        ):
            stored = model.data.frame
        else:
            stored = getattr(model.data, "orig_exog", None)
        return FeatureHint(n_features=len(names) or None, names=names or None, stored=stored)

    def predict(self, obj: Any, data: Any) -> Any:
        return obj.predict(data)

    def save(
        self, obj: Any, path: Path, *, signature: Any, input_example: Any, requirements: list[str]
    ) -> None:
        import mlflow.statsmodels

        mlflow.statsmodels.save_model(
            obj,
            str(path),
            signature=signature,
            input_example=input_example,
            pip_requirements=requirements,
        )
