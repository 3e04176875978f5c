"""A model signature from what the model really saw, checked by predicting through pyfunc.

The signature is inferred from the input example as a JSON request would deliver it
(``flavors.model_inputs.plain_inputs``: categories as their values, labels as text, documents as
a list of strings) and the in-memory model's own prediction on the example. A column the model
knew as a pandas ``category`` is declared ``Any``: MLflow has no category type, and ``Any``
accepts both the training frame (categories) and plain JSON values, which the model's input
restorer turns back into the training categories. Any other column MLflow's own schema check
refuses on the example is declared ``Any`` too, so the names, order and every other type are
kept and the example round-trips.

``pyfunc_check`` then loads the saved model through ``mlflow.pyfunc`` and predicts the example:
a model whose answer differs from the in-memory one is published with that said, not silently.
"""

from __future__ import annotations

from typing import Any

# predictions agree when within these (float32 models, BLAS differences)
RTOL = 1e-5
ATOL = 1e-8


def signature_for(
    example: Any, prediction: Any, any_columns: list[str] | None = None
) -> Any | None:
    """The signature of a model that predicted ``prediction`` on ``example``; None if none."""
    from mlflow.models import infer_signature

    try:
        signature = infer_signature(example, prediction)
    except Exception:
        return None
    if any_columns:
        signature.inputs = _widened(signature.inputs, example, set(any_columns))
    if _accepts(signature.inputs, example):
        return signature
    signature.inputs = _widened(signature.inputs, example, set())
    return signature if _accepts(signature.inputs, example) else None


def _accepts(schema: Any, example: Any) -> bool:
    from mlflow.models.utils import _enforce_schema

    try:
        _enforce_schema(example, schema)
    except Exception:
        return False
    return True


def _widened(schema: Any, example: Any, names: set[str]) -> Any:
    """``schema`` with the columns in ``names`` (or, with none, each column the check refuses on
    its own) declared ``Any``."""
    from mlflow.types.schema import AnyType, ColSpec, Schema

    if not schema.has_input_names() or not hasattr(example, "columns"):
        return schema
    cols = []
    for col in schema.inputs:
        if names:
            ok = col.name not in names
        else:
            ok = col.name in example.columns and _accepts(Schema([col]), example[[col.name]])
        cols.append(col if ok else ColSpec(AnyType(), col.name, required=col.required))
    return Schema(cols)


def _values(prediction: Any) -> Any:
    import numpy as np

    if hasattr(prediction, "to_numpy"):
        prediction = prediction.to_numpy()
    arr = np.asarray(prediction)
    return arr.reshape(-1) if arr.size and arr.ndim > 1 and 1 in arr.shape else arr


def same_predictions(got: Any, expected: Any) -> str | None:
    """None when the two predictions agree, else one line saying how they differ."""
    import numpy as np

    a, b = _values(got), _values(expected)
    if a.shape != b.shape:
        return f"shape {a.shape} instead of {b.shape}"
    if a.dtype.kind in "biuf" and b.dtype.kind in "biuf":
        close = np.isclose(a.astype(float), b.astype(float), rtol=RTOL, atol=ATOL, equal_nan=True)
        if close.all():
            return None
        i = int(np.flatnonzero(~close.reshape(-1))[0])
        return f"{int((~close).sum())} of {close.size} values differ (first: {a.reshape(-1)[i]!r} instead of {b.reshape(-1)[i]!r})"
    if np.array_equal(a.astype(str), b.astype(str)):
        return None
    return (
        f"predicted {a.reshape(-1)[:3].tolist()!r}... instead of {b.reshape(-1)[:3].tolist()!r}..."
    )


def pyfunc_check(path: str, example: Any, expected: Any) -> str:
    """Predict ``example`` through the pyfunc model saved in ``path``: ``matches``, or
    ``differs: ...`` / ``failed: ...`` saying why."""
    import mlflow.pyfunc

    try:
        got = mlflow.pyfunc.load_model(path).predict(example)
    except Exception as exc:
        return f"failed: {type(exc).__name__}: {str(exc)[:300]}"
    difference = same_predictions(got, expected)
    return "matches" if difference is None else f"differs: {difference}"
