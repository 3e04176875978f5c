"""What a model flavor is.

A flavor is an object (or a class, instantiated without arguments) with:

- ``name``: the registry's key and the flavor recorded with the model (``xgboost``);
- ``library``: the top-level module of its library; the flavor is only asked about objects
  while that module is imported, so recognising models never imports anything;
- ``recognises(obj)``: is ``obj`` a model object of this library (fitted or not)?
- ``fitted(obj)``: a hashable marker that changes whenever the object is fitted again, or None
  when it is not fitted (an unfitted estimator, a statsmodels model before ``.fit()``): None
  means there is nothing to log;
- ``params(obj)``: the model's own hyperparameters (``get_params()``, the booster's config);
- ``features(obj)``: a ``FeatureHint``, what the model knows of its training input;
- ``predict(obj, data)``: predict in memory as the MLflow flavor's pyfunc does;
- ``save(obj, path, *, signature, input_example, requirements)``: write the MLmodel folder
  with MLflow's own flavor (runs in the sync agent, where MLflow is imported);
- ``requirements``: the distributions pinned with the model beside MLflow's own.

Declare one in a package's pyproject.toml::

    [project.entry-points."jupyter_mlops.flavors"]
    mylib = "my_package.flavor:MyLibFlavor"

A flavor from an entry point is asked before the built-ins, so it can take over objects that a
built-in would claim (a scikit-learn subclass, say).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable


@dataclass
class FeatureHint:
    """What a fitted model knows of the data it was fitted on."""

    n_features: int | None = None
    names: list[str] | None = None  # as the model stores them (LightGBM: Column_0... for none)
    text: bool = False  # fitted on a list of documents (a text pipeline)
    dtype: str | None = None  # the numeric type it computes in, when known (float32 ...)
    stored: Any = None  # training rows the model keeps itself (statsmodels' exog)
    categorical: list[str] = field(default_factory=list)  # names of its categorical inputs


@runtime_checkable
class ModelFlavor(Protocol):
    name: str
    library: str
    requirements: tuple[str, ...]

    def recognises(self, obj: Any) -> bool: ...

    def fitted(self, obj: Any) -> Any: ...

    def params(self, obj: Any) -> dict[str, Any]: ...

    def features(self, obj: Any) -> FeatureHint: ...

    def predict(self, obj: Any, data: Any) -> Any: ...

    def save(
        self,
        obj: Any,
        path: Path,
        *,
        signature: Any,
        input_example: Any,
        requirements: list[str],
    ) -> None: ...
