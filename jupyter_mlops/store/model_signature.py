"""A model signature that accepts the data the model was fitted on.

MLflow's ``infer_signature`` types a pandas ``category`` column as ``string``, but its own schema
check then refuses that very column (``Can not safely convert category to <U0``): a Pipeline
with a ColumnTransformer over category columns could not predict, through pyfunc, on its own
training frame. Here the inferred signature is checked against the example it came from; a
column the check refuses is declared ``Any`` (values passed through as they are), so the names,
order and every other type are kept, and the training frame round-trips.
"""

from __future__ import annotations

from typing import Any


def signature_for(model: Any, example: Any) -> Any | None:
    """The signature of ``model`` on ``example`` that ``example`` itself passes; None if none."""
    from mlflow.models import infer_signature

    try:
        signature = infer_signature(example, model.predict(example))
    except Exception:
        return None
    if _accepts(signature.inputs, example):
        return signature
    signature.inputs = _widened(signature.inputs, example)
    return signature if _accepts(signature.inputs, example) else None


def _accepts(schema: Any, example: Any) -> bool:
    from mlflow.models.utils import _enforce_schema

    try:
        _enforce_schema(example, schema)
    except Exception:
        return False
    return True


def _widened(schema: Any, example: Any) -> Any:
    """``schema`` with each column the check refuses on its own declared ``Any``."""
    from mlflow.types.schema import AnyType, ColSpec, Schema

    if not schema.has_input_names() or not hasattr(example, "columns"):
        return schema
    cols = []
    for col in schema.inputs:
        single = Schema([col])
        ok = col.name in example.columns and _accepts(single, example[[col.name]])
        cols.append(col if ok else ColSpec(AnyType(), col.name, required=col.required))
    return Schema(cols)
