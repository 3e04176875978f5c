"""The serving prediction log: one cheap ``append`` per request, columnar files written off-path.

The router calls ``PredictionLog.append(record)`` for every request, so the request path only
takes a lock and appends a reference to a list (well under a microsecond). A background thread
turns the buffered records into one Arrow IPC file per flush (one row per *predicted row*, with
the request's fields repeated), written to a temporary name and renamed, so a reader never sees a
half-written file and a crash loses at most the last second of records.

Files live in ``.mlops/predictions/<model>/`` and are named ``<t0_ms>-<t1_ms>-<pid>-<seq>-<random>.arrow``
(first and last request time), so a reader picks a time window without opening every file.
Hand-written or foreign logs may also be dropped there as ``*.jsonl`` (one record per line).

Record keys: ``ts`` (epoch seconds), ``model``, ``version``, ``alias``, ``request_id``,
``latency_ms``, ``status`` (HTTP code), ``inputs`` (column -> value, or list of values for a
batch; a list of row dicts is accepted too), ``outputs`` (one value or a list, one per row; a dict
of such lists for multi-output models) and ``error``.
"""

from __future__ import annotations

import atexit
import hashlib
import itertools
import json
import math
import os
import re
import secrets
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
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
_FILE_NAME = re.compile(r"^(\d+)-(\d+)-(\d+)-(\d+)(?:-[0-9a-f]+)?\.arrow$")
_FILE_SEQ = itertools.count(1)


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


# --------------------------------------------------------------------------- normalising records


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


def _columns_of(inputs: Any) -> tuple[dict[str, list], int] | None:
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
        out: dict[str, list] = {}
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


def _outputs_of(outputs: Any, n: int) -> dict[str, list]:
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
        self.cols: dict[str, list] = {c: [] for c in REQUEST_COLUMNS}
        self.length = 0
        self.bad_records = 0

    def _put(self, name: str, values: list, rows: int) -> None:
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


def _to_arrow(values: list, name: str) -> pa.Array:
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


def records_to_table(records: Iterable[Any]) -> tuple[pa.Table, int]:
    """(table, number of records that could not be used) for a batch of log records."""
    builder = _ColumnBuilder()
    for rec in records:
        builder.add(rec)
    return builder.table(), builder.bad_records


# --------------------------------------------------------------------------- the writer

_open_logs: weakref.WeakSet[PredictionLog] = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    for log in list(_open_logs):
        log.close()


class PredictionLog:
    """Buffered, append-only prediction log for one model, flushed by a background thread.

    ``append`` never does I/O and never raises for a malformed record (those are counted at flush
    time as ``bad_records``). ``max_buffer`` bounds memory when the disk cannot keep up: the
    oldest records are dropped and counted in ``dropped``. ``on_flush(table)`` (for example the
    Prometheus metrics) runs on the writer thread after each file is written.
    """

    def __init__(
        self,
        ws: Workspace,
        model_name: str,
        *,
        flush_interval: float = 1.0,
        flush_rows: int = 20_000,
        max_buffer: int = 1_000_000,
        on_flush: Callable[[pa.Table], None] | None = None,
    ) -> None:
        self.ws = ws
        self.model = model_name
        self.folder = predictions_dir(ws, model_name, create=True)
        self.flush_interval = flush_interval
        self.flush_rows = flush_rows
        self.max_buffer = max_buffer
        self.on_flush = on_flush if on_flush is not None else _default_on_flush(ws, model_name)
        self.stats = {
            "appended": 0,
            "written": 0,
            "files": 0,
            "bad_records": 0,
            "dropped": 0,
            "write_errors": 0,
        }
        self._buf: list[dict] = []
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._wake = threading.Event()
        self._closed = False
        self._token = secrets.token_hex(3)
        self._thread = threading.Thread(
            target=self._run, name=f"prediction-log-{model_name}", daemon=True
        )
        self._thread.start()
        _open_logs.add(self)

    def append(self, record: dict) -> None:
        """Queue one request's record; the caller must not mutate it afterwards."""
        with self._lock:
            buf = self._buf
            buf.append(record)
            if len(buf) >= self.flush_rows:
                self._wake.set()

    def _take(self) -> list[dict]:
        with self._lock:
            batch, self._buf = self._buf, []
        return batch

    def _run(self) -> None:
        while not self._closed:
            self._wake.wait(self.flush_interval)
            self._wake.clear()
            try:
                self.flush()
            except Exception:  # never let the writer thread die; counted in stats
                self.stats["write_errors"] += 1

    def flush(self) -> Path | None:
        """Write everything buffered so far to one new file (None when nothing was buffered)."""
        with self._write_lock:
            batch = self._take()
            if not batch:
                return None
            self.stats["appended"] += len(batch)
            try:
                table, bad = records_to_table(batch)
                self.stats["bad_records"] += bad
                if table.num_rows == 0:
                    return None
                path = self._write(table)
            except OSError:
                self.stats["write_errors"] += 1
                self._requeue(batch)
                return None
            self.stats["written"] += len(batch) - bad
            self.stats["files"] += 1
        if self.on_flush is not None:
            try:
                self.on_flush(table)
            except Exception:
                self.stats["write_errors"] += 1
        return path

    def _requeue(self, batch: list[dict]) -> None:
        with self._lock:
            merged = batch + self._buf
            overflow = len(merged) - self.max_buffer
            if overflow > 0:
                self.stats["dropped"] += overflow
                merged = merged[overflow:]
            self._buf = merged

    def _write(self, table: pa.Table) -> Path:
        import pyarrow as pa
        import pyarrow.compute as pc

        bounds = pc.min_max(table["ts"]).as_py()
        t0, t1 = int(bounds["min"] * 1000), int(math.ceil(bounds["max"] * 1000))
        # unique even for two logs of one model in one process, or equal pids in two containers
        name = f"{t0}-{t1}-{os.getpid()}-{next(_FILE_SEQ)}-{self._token}.arrow"
        final = self.folder / name
        tmp = self.folder / f".tmp-{name}"
        options = pa.ipc.IpcWriteOptions()  # uncompressed: read back by memory map, zero-copy
        with (
            pa.OSFile(str(tmp), "wb") as sink,
            pa.ipc.new_file(sink, table.schema, options=options) as w,
        ):
            w.write_table(table)
        os.replace(tmp, final)
        return final

    def close(self, timeout: float = 10.0) -> None:
        """Stop the writer thread and write whatever is still buffered."""
        if self._closed:
            return
        self._closed = True
        self._wake.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)
        self.flush()
        _open_logs.discard(self)

    def __enter__(self) -> PredictionLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _default_on_flush(ws: Workspace, model: str) -> Callable[[pa.Table], None] | None:
    """Feed the process-wide Prometheus metrics, when prometheus-client is installed."""
    try:
        from .prometheus import default_metrics

        metrics = default_metrics()
    except ImportError:
        return None
    metrics.watch_drift(ws, model)
    return metrics.observe_table


# --------------------------------------------------------------------------- the reader


@dataclass
class PredictionScan:
    """A window of the log, plus what had to be skipped to read it."""

    table: pa.Table
    files_read: int = 0
    corrupted_files: list[str] = field(default_factory=list)
    corrupted_records: int = 0

    @property
    def problems(self) -> list[str]:
        out = []
        if self.corrupted_files:
            out.append(
                f"{len(self.corrupted_files)} unreadable log file(s) skipped: "
                + ", ".join(self.corrupted_files[:5])
            )
        if self.corrupted_records:
            out.append(f"{self.corrupted_records} corrupted log record(s) skipped")
        return out


def _empty_table() -> pa.Table:
    table, _ = records_to_table([])
    return table


def _read_arrow(path: Path) -> pa.Table:
    import pyarrow as pa

    with pa.memory_map(str(path)) as source:
        return pa.ipc.open_file(source).read_all()


def _read_jsonl(path: Path) -> tuple[pa.Table, int]:
    records, bad = [], 0
    with path.open("rb") as fh:
        for line in fh:
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except ValueError:
                bad += 1
    table, unusable = records_to_table(records)
    return table, bad + unusable


def _unify(tables: list[pa.Table]) -> pa.Table:
    """Concatenate tables whose columns may differ; conflicting feature types become text."""
    import pyarrow as pa

    try:
        return pa.concat_tables(tables, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        pass
    types: dict[str, set] = {}
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


def _window(table: pa.Table, lo: float | None, hi: float | None) -> tuple[pa.Table, int]:
    """Rows with a valid ``ts`` inside [lo, hi); copies nothing when the whole file qualifies."""
    import pyarrow.compute as pc

    if "ts" not in table.column_names:
        return table.slice(0, 0), table.num_rows
    ts = table["ts"]
    bounds = pc.min_max(ts).as_py()
    finite = ts.null_count == 0 and bounds["min"] is not None
    finite = finite and math.isfinite(bounds["min"]) and math.isfinite(bounds["max"])
    inside = (lo is None or (bounds["min"] or 0) >= lo) and (
        hi is None or (bounds["max"] or 0) < hi
    )
    if finite and inside:
        return table, 0
    valid = pc.fill_null(pc.is_finite(ts), False)
    bad = table.num_rows - pc.sum(valid).as_py() if table.num_rows else 0
    if lo is not None:
        valid = pc.and_(valid, pc.greater_equal(ts, lo))
    if hi is not None:
        valid = pc.and_(valid, pc.less(ts, hi))
    return table.filter(pc.fill_null(valid, False)), int(bad or 0)


def scan_predictions(
    ws: Workspace,
    model: str,
    since: float | datetime | None = None,
    until: float | datetime | None = None,
) -> PredictionScan:
    """Every logged prediction row of ``model`` with ``since <= ts < until``; never raises for
    unreadable files or records: they are skipped and counted on the returned scan."""

    lo = _as_epoch(since) if since is not None else None
    hi = _as_epoch(until) if until is not None else None
    folder = predictions_dir(ws, model)
    scan = PredictionScan(table=_empty_table())
    if not folder.is_dir():
        return scan
    tables = []
    for path in sorted(folder.iterdir()):
        name = path.name
        if name.startswith("."):
            continue
        match = _FILE_NAME.match(name)
        if match:
            t0, t1 = int(match.group(1)) / 1000, int(match.group(2)) / 1000
            if (lo is not None and t1 < lo) or (hi is not None and t0 >= hi):
                continue
            try:
                table = _read_arrow(path)
            except Exception:
                scan.corrupted_files.append(name)
                continue
        elif name.endswith(".jsonl"):
            try:
                table, bad = _read_jsonl(path)
            except OSError:
                scan.corrupted_files.append(name)
                continue
            scan.corrupted_records += bad
        else:
            if name.endswith(".arrow"):
                scan.corrupted_files.append(name)
            continue
        scan.files_read += 1
        table, bad = _window(table, lo, hi)
        scan.corrupted_records += bad
        if table.num_rows:
            tables.append(table)
    if tables:
        scan.table = _unify(tables)
    return scan


def read_predictions(
    ws: Workspace,
    model: str,
    since: float | datetime | None = None,
    until: float | datetime | None = None,
) -> pa.Table:
    """The log window as an Arrow table (``.to_pandas()`` for a DataFrame); skip counts are in the
    schema metadata (``corrupted_files``, ``corrupted_records``). ``scan_predictions`` gives more."""
    scan = scan_predictions(ws, model, since, until)
    meta = {
        b"corrupted_files": str(len(scan.corrupted_files)).encode(),
        b"corrupted_records": str(scan.corrupted_records).encode(),
        b"files_read": str(scan.files_read).encode(),
    }
    return scan.table.replace_schema_metadata(meta)


def now() -> float:
    return time.time()
