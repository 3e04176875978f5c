"""MLflow scoring payloads -> validated columns -> DataFrame, and predictions -> JSON.

Accepts the four shapes ``mlflow models serve`` accepts (``dataframe_split``,
``dataframe_records``, ``instances``, ``inputs``). Validation against the model's signature is
done here, column by column, so a bad request gets a 400 that names the column; the model is then
called without MLflow's own (slower, message-less) schema enforcement.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

_NUMPY = {
    "double": np.float64,
    "float": np.float32,
    "long": np.int64,
    "integer": np.int32,
    "boolean": np.bool_,
}


class BadPayload(ValueError):
    """The request body cannot be scored; the message is safe to return to the caller."""


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    type: str  # MLflow DataType name: double, long, string, boolean, ...
    required: bool = True


def schema_columns(pyfunc_model: Any) -> list[ColumnSpec] | None:
    """Column specs of a model's input signature (None: no signature or a tensor signature)."""
    schema = pyfunc_model.metadata.get_input_schema()
    if schema is None or not schema.has_input_names() or schema.is_tensor_spec():
        return None
    out = []
    for col in schema.inputs:
        t = getattr(col.type, "name", str(col.type))
        out.append(ColumnSpec(col.name, str(t), getattr(col, "required", True)))
    return out


def parse_body(body: bytes, columns: list[ColumnSpec] | None) -> dict[str, list]:
    """Column name -> list of values, from any MLflow payload shape."""
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadPayload(f"body is not valid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise BadPayload(
            "body must be a JSON object with dataframe_split, dataframe_records, instances or inputs"
        )
    keys = [k for k in ("dataframe_split", "dataframe_records", "instances", "inputs") if k in doc]
    if len(keys) != 1:
        raise BadPayload(
            "body must have exactly one of dataframe_split, dataframe_records, instances, inputs"
        )
    key, value = keys[0], doc[keys[0]]
    names = [c.name for c in columns] if columns else None
    if key == "dataframe_split":
        if not isinstance(value, dict) or not isinstance(value.get("data"), list):
            raise BadPayload("dataframe_split needs {'columns': [...], 'data': [[...], ...]}")
        cols = value.get("columns") or names
        if not isinstance(cols, list):
            raise BadPayload("dataframe_split needs 'columns'")
        return _from_rows(value["data"], [str(c) for c in cols])
    if key == "dataframe_records":
        return _from_records(value)
    # instances / inputs: records, a column dict, or rows in signature order
    if isinstance(value, dict):
        return {str(k): (list(v) if isinstance(v, list) else [v]) for k, v in value.items()}
    if isinstance(value, list) and value and all(isinstance(r, dict) for r in value):
        return _from_records(value)
    if isinstance(value, list) and names:
        rows = value if value and isinstance(value[0], list) else [value]
        return _from_rows(rows, names)
    raise BadPayload(f"cannot read {key!r}: give a list of records or a column mapping")


def parse_csv(body: bytes) -> dict[str, list]:
    """``text/csv`` bodies (a header row, then one row a record), as ``mlflow models serve``."""
    import io

    import pandas as pd

    try:
        frame = pd.read_csv(io.BytesIO(body))
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadPayload(f"body is not valid CSV: {exc}") from None
    return {str(c): frame[c].tolist() for c in frame.columns}


def _from_rows(rows: list, cols: list[str]) -> dict[str, list]:
    if len(set(cols)) != len(cols):
        raise BadPayload("duplicate column names")
    out: dict[str, list] = {c: [] for c in cols}
    lists = [out[c] for c in cols]
    width = len(cols)
    for i, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != width:
            raise BadPayload(
                f"row {i} has {len(row) if isinstance(row, list) else 'no'} values; expected {width}"
            )
        for target, v in zip(lists, row, strict=True):
            target.append(v)
    return out


def _from_records(records: Any) -> dict[str, list]:
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise BadPayload("dataframe_records must be a list of objects")
    cols: dict[str, list] = {}
    for r in records:
        for k in r:
            cols.setdefault(str(k), [])
    for c, values in cols.items():
        values.extend(r.get(c) for r in records)
    return cols


def to_frame(data: dict[str, list], columns: list[ColumnSpec] | None) -> Any:
    """A DataFrame with the signature's columns, in order and of its types; 400s name the column."""
    import pandas as pd

    n = len(next(iter(data.values()))) if data else 0
    for c, v in data.items():
        if len(v) != n:
            raise BadPayload(f"column {c!r} has {len(v)} values; the others have {n}")
    if n == 0:
        raise BadPayload("no rows to score")
    if columns is None:
        return pd.DataFrame(data)
    arrays: dict[str, Any] = {}
    for spec in columns:
        values = data.get(spec.name)
        if values is None:
            if spec.required:
                raise BadPayload(f"missing column {spec.name!r} (type {spec.type})")
            continue
        arrays[spec.name] = _column(spec, values)
    return pd.DataFrame(arrays, copy=False)


def _column(spec: ColumnSpec, values: list) -> Any:
    dtype = _NUMPY.get(spec.type)
    if dtype is None:
        if spec.type == "string":
            if not all(isinstance(v, str) for v in values):
                bad = next(v for v in values if not isinstance(v, str))
                raise BadPayload(f"column {spec.name!r} expects strings, got {bad!r}")
            return np.asarray(values, dtype=object)
        return values  # datetime, binary...: left to the model
    if any(v is None or isinstance(v, (str, dict, list)) for v in values):
        bad = next(v for v in values if v is None or isinstance(v, (str, dict, list)))
        raise BadPayload(f"column {spec.name!r} expects {spec.type} values, got {bad!r}")
    if spec.type == "boolean":
        if not all(isinstance(v, bool) for v in values):
            raise BadPayload(f"column {spec.name!r} expects true/false values")
        return np.asarray(values, dtype=np.bool_)
    arr = np.asarray(values, dtype=np.float64)
    if dtype in (np.int64, np.int32):
        if not np.all(np.isfinite(arr)) or not np.all(arr == np.floor(arr)):
            raise BadPayload(f"column {spec.name!r} expects whole numbers ({spec.type})")
        return arr.astype(dtype)
    return arr if dtype is np.float64 else arr.astype(dtype)


def predictions_json(pred: Any) -> tuple[bytes, Any]:
    """(response body, outputs for the prediction log) in MLflow's ``{"predictions": ...}`` shape."""
    if hasattr(pred, "to_dict") and hasattr(pred, "columns"):  # DataFrame
        out = pred.to_dict(orient="records")
    elif hasattr(pred, "tolist"):
        out = pred.tolist()
    else:
        out = pred
    body = json.dumps({"predictions": out}, default=_jsonable, allow_nan=True).encode()
    return body, out


def _jsonable(v: Any) -> Any:
    if hasattr(v, "item"):
        return v.item()
    if isinstance(v, float) and math.isnan(v):
        return None
    return str(v)
