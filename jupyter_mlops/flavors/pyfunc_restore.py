"""Restores, before a model predicts, what a JSON request cannot carry.

This file is copied into a logged model (its ``mlops_code/`` folder) and named as the model's
``python_function`` loader module, so it must stand alone: it imports nothing of jupyter-mlops,
and a model that uses it is served by ``mlflow models serve`` or any pyfunc loader without
jupyter-mlops installed. It loads the model through the loader module its MLflow flavor wrote
(``mlflow.xgboost``, ``mlflow.sklearn``...) and, on every call:

- turns the columns the model was trained on as pandas categories back into categories with the
  training categories, in their order (plain JSON strings or numbers come in; a value it never saw
  becomes a missing value, as pandas does);
- gives the columns their training labels back (a frame read with ``header=None`` has integer
  labels, which JSON turns into strings);
- hands a text model its documents as a list (pyfunc turns a list of strings into a one-column
  frame, and a vectorizer iterating over a frame sees its column names);
- predicts an XGBoost Booster with categories through ``DMatrix(..., enable_categorical=True)``.

The spec (``mlops_inputs.json`` beside the MLmodel file) is versioned by ``format``.
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import sys
from typing import Any

FORMAT = 1


def _load_pyfunc(path: str, model_config: Any = None) -> RestoredInputs:
    with open(path, encoding="utf-8") as fh:
        spec = json.load(fh)
    folder = os.path.dirname(path)
    if spec.get("inner_code"):  # the flavor's own code folder, which this loader took the place of
        sys.path.insert(0, os.path.join(folder, spec["inner_code"]))
    inner = importlib.import_module(spec["loader_module"])
    data = os.path.join(folder, spec["data"]) if spec.get("data") else folder
    loader = inner._load_pyfunc
    if model_config is not None and "model_config" in inspect.signature(loader).parameters:
        impl = loader(data, model_config=model_config)
    else:
        impl = loader(data)
    return RestoredInputs(impl, spec)


class RestoredInputs:
    def __init__(self, impl: Any, spec: dict[str, Any]) -> None:
        self.impl = impl
        self.spec = spec
        self._takes_params = "params" in inspect.signature(impl.predict).parameters

    def get_raw_model(self) -> Any:
        raw = getattr(self.impl, "get_raw_model", None)
        return raw() if callable(raw) else self.impl

    def restore(self, data: Any) -> Any:
        import pandas as pd

        if self.spec.get("text"):
            if isinstance(data, pd.DataFrame):
                return [str(v) for v in data.iloc[:, 0]]
            if isinstance(data, pd.Series):
                return [str(v) for v in data]
            return data
        columns = self.spec.get("columns") or []
        if not isinstance(data, pd.DataFrame) or not columns:
            return data
        frame = data.copy(deep=False)
        for col in columns:
            name = col["name"]
            if col.get("categories") is not None and name in frame.columns:
                cats = pd.Index(col["categories"])
                frame[name] = pd.Categorical(
                    frame[name], categories=cats, ordered=bool(col.get("ordered"))
                )
        labels = {c["name"]: c["label"] for c in columns if "label" in c}
        if labels:
            frame = frame.rename(columns=labels)
        return frame

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        data = self.restore(data)
        if self.spec.get("predict_via") == "xgboost_booster":
            import xgboost as xgb

            return self.get_raw_model().predict(xgb.DMatrix(data, enable_categorical=True))
        if self._takes_params and params:
            return self.impl.predict(data, params=params)
        return self.impl.predict(data)
