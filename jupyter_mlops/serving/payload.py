"""MLflow scoring payloads -> validated columns -> DataFrame, and predictions -> JSON.

Accepts the four shapes ``mlflow models serve`` accepts (``dataframe_split``,
``dataframe_records``, ``instances``, ``inputs``). Validation against the model's signature is
done here, column by column, so a bad request gets a 400 that names the column; the model is then
called without MLflow's own (slower, message-less) schema enforcement.

Hostile input is a 400 naming its column, never a crash: JSON nested past Python's recursion
limit, integers too large for a float (or outside a ``long``/``integer`` column's range: nothing
wraps), ``true`` in a number column, and the ``NaN``/``Infinity`` tokens, which are not JSON. A
missing value in a float column is an empty CSV cell (NaN reaches the model, as in pandas).
Responses are strict JSON: a NaN or infinite prediction is answered as ``null``.
"""

from __future__ import annotations

import io
import json
import math
import reprlib
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np  # noqa: TID253 -- needed at import here

_NUMPY = {
    "double": np.float64,
    "float": np.float32,
    "long": np.int64,
    "integer": np.int32,
    "boolean": np.bool_,
}


# JSON nesting the parser follows before refusing the body (Python's own recursion limit)
MAX_DEPTH = sys.getrecursionlimit()
_INT_RANGE = {"long": (-(2**63), 2**63 - 1), "integer": (-(2**31), 2**31 - 1)}


class BadPayload(ValueError):
    """The request body cannot be scored; the message is safe to return to the caller."""


class _NonFinite:
    """A ``NaN`` / ``Infinity`` token in a request: not JSON, refused where it is read, naming its
    column (a float NaN would instead look like a missing value to the model)."""

    def __init__(self, token: str) -> None:
        self.token = token

    def __repr__(self) -> str:
        return self.token


def _is_name(value: Any) -> bool:
    return isinstance(value, (str, int)) and not isinstance(value, bool)


def _show(value: Any) -> str:
    """A short, safe rendering of a caller's value for an error message."""
    return _SHORT.repr(value)


_SHORT = reprlib.Repr()
_SHORT.maxstring = _SHORT.maxother = 40
_SHORT.maxlevel = 2


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


def parse_body(body: bytes, columns: list[ColumnSpec] | None) -> dict[str, list[Any]]:
    """Column name -> list of values, from any MLflow payload shape."""
    try:
        doc = json.loads(body, parse_constant=_NonFinite)
    except RecursionError:
        raise BadPayload(f"body is nested too deeply (over {MAX_DEPTH} levels)") from None
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
        if not isinstance(cols, list) or not all(_is_name(c) for c in cols):
            raise BadPayload("dataframe_split needs 'columns': a list of column names")
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


def parse_csv(body: bytes) -> dict[str, list[Any]]:
    """``text/csv`` bodies (a header row, then one row a record), as ``mlflow models serve``."""

    import pandas as pd

    try:
        frame = pd.read_csv(io.BytesIO(body))
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadPayload(f"body is not valid CSV: {exc}") from None
    return {str(c): frame[c].tolist() for c in frame.columns}


def _from_rows(rows: list[Any], cols: list[str]) -> dict[str, list[Any]]:
    if len(set(cols)) != len(cols):
        raise BadPayload("duplicate column names")
    out: dict[str, list[Any]] = {c: [] for c in cols}
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


def _from_records(records: Any) -> dict[str, list[Any]]:
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise BadPayload("dataframe_records must be a list of objects")
    cols: dict[str, list[Any]] = {}
    for r in records:
        for k in r:
            cols.setdefault(str(k), [])
    for c, values in cols.items():
        values.extend(r.get(c) for r in records)
    return cols


def to_frame(data: dict[str, list[Any]], columns: list[ColumnSpec] | None) -> Any:
    """A DataFrame with the signature's columns, in order and of its types; 400s name the column."""
    import pandas as pd

    n = len(next(iter(data.values()))) if data else 0
    for c, v in data.items():
        if len(v) != n:
            raise BadPayload(f"column {c!r} has {len(v)} values; the others have {n}")
    if n == 0:
        raise BadPayload("no rows to score")
    if columns is None:
        for c, column in data.items():
            bad = next((v for v in column if isinstance(v, _NonFinite)), None)
            if bad is not None:
                raise BadPayload(f"column {c!r}: {bad.token} is not JSON")
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


def _column(spec: ColumnSpec, values: list[Any]) -> Any:
    dtype = _NUMPY.get(spec.type)
    if dtype is None:
        if spec.type == "string":
            bad = next((v for v in values if not isinstance(v, str)), None)
            if bad is not None:
                raise BadPayload(f"column {spec.name!r} expects strings, got {_show(bad)}")
            return np.asarray(values, dtype=object)
        bad = next((v for v in values if isinstance(v, _NonFinite)), None)
        if bad is not None:
            raise BadPayload(f"column {spec.name!r}: {bad.token} is not JSON")
        return values  # datetime, binary...: left to the model
    if spec.type == "boolean":
        bad = next((v for v in values if not isinstance(v, bool)), None)
        if bad is not None:
            raise BadPayload(f"column {spec.name!r} expects true/false values, got {_show(bad)}")
        return np.asarray(values, dtype=np.bool_)
    for v in values:
        _check_number(spec, v)
    arr: np.ndarray = np.asarray(values, dtype=dtype)
    if dtype is np.float32 and not np.all(np.isfinite(arr) | np.isnan(arr)):
        raise BadPayload(f"column {spec.name!r} has a value out of the float range")
    return arr


def _check_number(spec: ColumnSpec, v: Any) -> None:
    """Refuse what numpy would turn into a wrong number: bools, non-finite or too-large values,
    fractions in a whole-number column, values outside its integer range."""
    where = f"column {spec.name!r}"
    if isinstance(v, _NonFinite):
        raise BadPayload(f"{where}: {v.token} is not JSON; send a finite number")
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise BadPayload(f"{where} expects {spec.type} values, got {_show(v)}")
    bounds = _INT_RANGE.get(spec.type)
    if isinstance(v, float):
        if math.isnan(v):
            if bounds is None:
                return  # a missing value (an empty CSV cell) in a float column
            raise BadPayload(f"{where} has a missing value ({spec.type})")
        if math.isinf(v):
            raise BadPayload(f"{where}: infinity is not a {spec.type} value")
        if bounds is not None and not v.is_integer():
            raise BadPayload(f"{where} expects whole numbers ({spec.type}), got {_show(v)}")
    if bounds is not None:
        if not bounds[0] <= v <= bounds[1]:
            raise BadPayload(
                f"{where}: {_show(v)} is outside the {spec.type} range {bounds[0]}..{bounds[1]}"
            )
    elif isinstance(v, int) and abs(v) > sys.float_info.max:
        raise BadPayload(f"{where}: {_show(v)} is too large for a {spec.type}")


def predictions_json(pred: Any) -> tuple[bytes, Any]:
    """(response body, outputs for the prediction log) in MLflow's ``{"predictions": ...}`` shape.

    The body is strict JSON: a NaN or infinite prediction is answered as ``null``.
    """
    if hasattr(pred, "to_dict") and hasattr(pred, "columns"):  # DataFrame
        out = pred.to_dict(orient="records")
    elif hasattr(pred, "tolist"):
        out = pred.tolist()
    else:
        out = pred
    try:
        body = json.dumps({"predictions": out}, default=_jsonable, allow_nan=False)
    except ValueError:  # a non-finite float somewhere: the rare, slower path
        body = json.dumps({"predictions": _finite(out)}, default=_jsonable, allow_nan=False)
    return body.encode(), out


def _finite(v: Any) -> Any:
    """``v`` with every non-finite float (Python or numpy) replaced by None."""
    if isinstance(v, dict):
        return {k: _finite(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_finite(x) for x in v]
    if hasattr(v, "tolist") and not isinstance(v, (str, bytes)):
        return _finite(v.tolist())
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def _jsonable(v: Any) -> Any:
    if hasattr(v, "item"):
        v = v.item()
        return None if isinstance(v, float) and not math.isfinite(v) else v
    return str(v)
