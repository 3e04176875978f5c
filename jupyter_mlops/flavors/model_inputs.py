"""The input example as JSON can carry it, and what the model needs restored from it.

A pandas ``category`` column, integer column labels (``header=None``) and a list of documents
do not survive a JSON request: pyfunc, the router and ``mlflow models serve`` hand the model
strings, string labels and a one-column frame. ``plain_inputs`` gives the example as such a
request would arrive, plus the spec of what to restore; ``install_restorer`` makes a saved model
restore it before every prediction (``pyfunc_restore``, copied into the model).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from . import pyfunc_restore

RESTORE_MODULE = "jupyter_mlops_pyfunc_inputs"
SPEC_FILE = "mlops_inputs.json"
CODE_DIR = "mlops_code"


def _is_text(example: Any) -> bool:
    values = example.tolist() if hasattr(example, "tolist") else example
    if not isinstance(values, list) or not values:
        return False
    if hasattr(example, "ndim") and example.ndim != 1:
        return False
    return all(isinstance(v, str) for v in values)


def _json_value(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def plain_inputs(example: Any) -> tuple[Any, dict[str, Any] | None]:
    """``example`` as a JSON request would deliver it, and the restore spec (None: nothing)."""
    if _is_text(example) and not hasattr(example, "columns"):
        values = example.tolist() if hasattr(example, "tolist") else list(example)
        return [str(v) for v in values], {"format": pyfunc_restore.FORMAT, "text": True}
    columns = getattr(example, "columns", None)
    if columns is None:
        return example, None
    import pandas as pd

    plain = example.copy()
    specs: list[dict[str, Any]] = []
    needed = False
    for label in columns:
        col: dict[str, Any] = {"name": str(label)}
        if not isinstance(label, str):
            col["label"] = _json_value(label)
            needed = True
        series = example[label]
        if isinstance(series.dtype, pd.CategoricalDtype):
            cats = series.cat.categories
            col["categories"] = [_json_value(v) for v in cats]
            col["ordered"] = bool(series.cat.ordered)
            plain[label] = series.astype(cats.dtype)
            needed = True
        specs.append(col)
    if not needed:
        return example, None
    plain.columns = [str(c) for c in columns]
    return plain, {"format": pyfunc_restore.FORMAT, "columns": specs}


def category_columns(spec: dict[str, Any] | None) -> list[str]:
    return [c["name"] for c in (spec or {}).get("columns", []) if c.get("categories") is not None]


def install_restorer(path: Path, spec: dict[str, Any], predict_via: str | None = None) -> None:
    """Make the model saved in ``path`` restore its inputs (``spec``) before predicting."""
    from mlflow.models import Model
    from mlflow.pyfunc import CODE, DATA, MAIN

    mlmodel = Model.load(str(path / "MLmodel"))
    conf = mlmodel.flavors["python_function"]
    full = {**spec, "loader_module": conf[MAIN], "data": conf.get(DATA)}
    if predict_via:
        full["predict_via"] = predict_via
    if conf.get(CODE):
        full["inner_code"] = conf[CODE]
    (path / SPEC_FILE).write_text(json.dumps(full, indent=1), encoding="utf-8")
    code = path / CODE_DIR
    code.mkdir(exist_ok=True)
    shutil.copyfile(pyfunc_restore.__file__, code / f"{RESTORE_MODULE}.py")
    conf[MAIN] = RESTORE_MODULE
    conf[DATA] = SPEC_FILE
    conf[CODE] = CODE_DIR
    mlmodel.metadata = {**(mlmodel.metadata or {}), "mlops_inputs": spec}
    mlmodel.save(str(path / "MLmodel"))
