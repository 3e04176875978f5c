"""The prediction log's format: where files live, and log records turned into Arrow columns.

Shared by the writer (``predlog_writer``) and the reader (``predlog_reader``). One row per
*predicted row*, with the request's fields repeated; inputs become ``in.<column>``, outputs
``out`` (or ``out.<name>`` for multi-output models). Values Arrow cannot type (mixed or nested)
are kept as JSON text rather than dropped.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import re
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InvalidInput
from ..workspace import Workspace

if TYPE_CHECKING:
    import pyarrow as pa

PREDICTIONS_DIR = "predictions"
INPUT_PREFIX = "in."
OUTPUT_COLUMN = "out"
OUTPUT_PREFIX = "out."
REQUEST_COLUMNS = (
    "ts",
    "model",
    "version",
    "alias",
    "request_id",
    "latency_ms",
    "status",
    "error",
    "n_rows",
    "row",
)
FILE_NAME = re.compile(r"^(\d+)-(\d+)-(\d+)-(\d+)(?:-[0-9a-f]+)?\.arrow$")
FILE_SEQ = itertools.count(1)


def model_folder_name(model: str) -> str:
    """A file-system-safe folder for ``model`` (a short hash keeps distinct names distinct)."""
    if not isinstance(model, str) or not model.strip():
        raise InvalidInput(f"model name {model!r} is empty", hint="name the registered model")
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", model).strip("._") or "model"
    if safe != model:
        safe = f"{safe}-{hashlib.sha1(model.encode()).hexdigest()[:8]}"
    return safe


def predictions_dir(ws: Workspace, model: str, *, create: bool = False) -> Path:
    folder = ws.state_dir / PREDICTIONS_DIR / model_folder_name(model)
    if create:
        ws.subdir(PREDICTIONS_DIR)
        folder.mkdir(parents=True, exist_ok=True)
    return folder


def _as_epoch(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value).timestamp()
        except ValueError:
            return None
    return None


def _is_seq(value: Any) -> bool:
    return isinstance(value, (list, tuple)) or (
        hasattr(value, "tolist") and getattr(value, "ndim", 0) >= 1
    )


def _columns_of(inputs: Any) -> tuple[dict[str, list[Any]], int] | None:
    """(column -> list of values, rows) from the shapes the router may hand us; None if unusable."""
    if inputs is None:
        return {}, 0
    if isinstance(inputs, dict):
        if "columns" in inputs and "data" in inputs:  # MLflow dataframe_split
            cols = [str(c) for c in inputs["columns"]]
            rows = list(inputs["data"])
            return {
                c: [r[i] if i < len(r) else None for r in rows] for i, c in enumerate(cols)
            }, len(rows)
        out: dict[str, list[Any]] = {}
        n = 0
        for key, value in inputs.items():
            values = (
                list(value.tolist() if hasattr(value, "tolist") else value)
                if _is_seq(value)
                else [value]
            )
            out[str(key)] = values
            n = max(n, len(values))
        return out, n
    if isinstance(inputs, (list, tuple)) and all(isinstance(r, dict) for r in inputs):
        keys: dict[str, None] = {}
        for r in inputs:
            keys.update(dict.fromkeys(map(str, r)))
        return {k: [r.get(k) for r in inputs] for k in keys}, len(inputs)
    return None


def _outputs_of(outputs: Any, n: int) -> dict[str, list[Any]]:
    if isinstance(outputs, dict) and set(outputs) == {"predictions"}:
        outputs = outputs["predictions"]
    if outputs is None:
        return {}
    if isinstance(outputs, dict):
        return {
            OUTPUT_PREFIX + str(k): (list(v) if _is_seq(v) else [v]) for k, v in outputs.items()
        }
    if _is_seq(outputs):
        values = list(outputs.tolist() if hasattr(outputs, "tolist") else outputs)
        if values and isinstance(values[0], dict):  # list of per-row dicts
            keys = {k for v in values if isinstance(v, dict) for k in v}
            return {
                OUTPUT_PREFIX + str(k): [v.get(k) if isinstance(v, dict) else None for v in values]
                for k in keys
            }
        return {OUTPUT_COLUMN: values}
    return {OUTPUT_COLUMN: [outputs]}


class _ColumnBuilder:
    """Accumulates records into equal-length column lists (missing values padded with None)."""

    def __init__(self) -> None:
        self.cols: dict[str, list[Any]] = {c: [] for c in REQUEST_COLUMNS}
        self.length = 0
        self.bad_records = 0

    def _put(self, name: str, values: list[Any], rows: int) -> None:
        col = self.cols.get(name)
        if col is None:
            col = self.cols[name] = [None] * self.length
        if len(values) >= rows:
            col.extend(values[:rows])
        else:
            col.extend(values)
            col.extend([None] * (rows - len(values)))

    def add(self, rec: Any) -> None:
        if not isinstance(rec, dict):
            self.bad_records += 1
            return
        ts = _as_epoch(rec.get("ts"))
        if ts is None:
            self.bad_records += 1
            return
        parsed = _columns_of(rec.get("inputs"))
        error = rec.get("error")
        if parsed is None:
            parsed, error = ({}, 0), error or "inputs not loggable"
        inputs, n = parsed
        rows = max(n, 1)
        status = rec.get("status")
        latency = rec.get("latency_ms")
        req = {
            "ts": ts,
            "model": None if rec.get("model") is None else str(rec.get("model")),
            "version": None if rec.get("version") is None else str(rec.get("version")),
            "alias": None if rec.get("alias") is None else str(rec.get("alias")),
            "request_id": None if rec.get("request_id") is None else str(rec.get("request_id")),
            "latency_ms": float(latency) if isinstance(latency, (int, float)) else None,
            "status": int(status) if isinstance(status, (int, float)) else None,
            "error": None if error is None else str(error)[:2000],
            "n_rows": n,
        }
        for key, value in req.items():
            self.cols[key].extend([value] * rows)
        self.cols["row"].extend(range(rows))
        for name, values in inputs.items():
            self._put(INPUT_PREFIX + name, values, rows)
        for name, values in _outputs_of(rec.get("outputs"), n).items():
            self._put(name, values, rows)
        self.length += rows
        for col in self.cols.values():
            if len(col) < self.length:
                col.extend([None] * (self.length - len(col)))

    def table(self) -> pa.Table:
        import pyarrow as pa

        arrays = {}
        for name, values in self.cols.items():
            arrays[name] = _to_arrow(values, name)
        return pa.table(arrays)


_REQUEST_TYPES = {
    "ts": "float64",
    "latency_ms": "float64",
    "status": "int32",
    "n_rows": "int32",
    "row": "int32",
}


def _to_arrow(values: list[Any], name: str) -> pa.Array:
    import pyarrow as pa

    if name in _REQUEST_TYPES:
        return pa.array(values, type=_REQUEST_TYPES[name])
    if name in REQUEST_COLUMNS:
        return pa.array(values, type=pa.string())
    try:
        arr = pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        arr = None
    if arr is None or not (
        pa.types.is_integer(arr.type)
        or pa.types.is_floating(arr.type)
        or pa.types.is_boolean(arr.type)
        or pa.types.is_string(arr.type)
        or pa.types.is_null(arr.type)
    ):  # mixed or nested values: keep them, as text
        arr = pa.array(
            [
                None
                if v is None
                else v
                if isinstance(v, str)
                else json.dumps(v, default=str, sort_keys=True)
                for v in values
            ],
            type=pa.string(),
        )
    if pa.types.is_null(arr.type):
        arr = arr.cast(pa.float64())
    return arr


def batch_table(
    inputs: pa.Table,
    outputs: Any,
    *,
    ts: float,
    model: str,
    version: str,
    alias: str,
    request_id: str,
    latency_ms: float,
) -> pa.Table:
    """One scored batch (batch scoring) as log rows, built column-wise: what ``records_to_table``
    makes of one record holding the whole batch, without a Python object per value."""
    import numpy as np
    import pyarrow as pa

    n = inputs.num_rows
    request: dict[str, Any] = {
        "ts": pa.array(np.full(n, ts, dtype="float64")),
        "model": pa.array([model] * n, pa.string()),
        "version": pa.array([version] * n, pa.string()),
        "alias": pa.array([alias] * n, pa.string()),
        "request_id": pa.array([request_id] * n, pa.string()),
        "latency_ms": pa.array(np.full(n, latency_ms, dtype="float64")),
        "status": pa.array(np.full(n, 200, dtype="int32")),
        "error": pa.nulls(n, pa.string()),
        "n_rows": pa.array(np.full(n, n, dtype="int32")),
        "row": pa.array(np.arange(n, dtype="int32")),
    }
    for name in inputs.column_names:
        request[INPUT_PREFIX + str(name)] = inputs[name]
    values = np.asarray(outputs)
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.ndim == 1:
        request[OUTPUT_COLUMN] = pa.array(values)
    else:
        for j in range(values.shape[1]):
            request[f"{OUTPUT_PREFIX}{j}"] = pa.array(values[:, j])
    return pa.table(request)


def records_to_table(records: Iterable[Any]) -> tuple[pa.Table, int]:
    """(table, number of records that could not be used) for a batch of log records."""
    builder = _ColumnBuilder()
    for rec in records:
        builder.add(rec)
    return builder.table(), builder.bad_records


def unify_tables(tables: list[pa.Table]) -> pa.Table:
    """Concatenate tables whose columns may differ; conflicting feature types become text."""
    import pyarrow as pa

    try:
        return pa.concat_tables(tables, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        pass
    types: dict[str, set[Any]] = {}
    for t in tables:
        for f in t.schema:
            types.setdefault(f.name, set()).add(f.type)
    conflicted = {
        n for n, ts in types.items() if len({str(t) for t in ts if not pa.types.is_null(t)}) > 1
    }
    fixed = []
    for t in tables:
        for name in conflicted & set(t.column_names):
            i = t.column_names.index(name)
            col = t[name]
            if not pa.types.is_string(col.type):
                col = col.cast(pa.string())
            t = t.set_column(i, name, col)
        fixed.append(t)
    return pa.concat_tables(fixed, promote_options="permissive")
