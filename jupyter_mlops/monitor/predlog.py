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

This module is the public face; the work is in ``predlog_format`` (records to Arrow),
``predlog_writer`` (``PredictionLog``) and ``predlog_reader`` (``scan_predictions``).
"""

from __future__ import annotations

from .predlog_format import (
    INPUT_PREFIX,
    OUTPUT_COLUMN,
    OUTPUT_PREFIX,
    PREDICTIONS_DIR,
    REQUEST_COLUMNS,
    model_folder_name,
    predictions_dir,
    records_to_table,
    unify_tables,
)
from .predlog_reader import PredictionScan, now, read_predictions, scan_predictions
from .predlog_writer import CONVERT_SLICE, PredictionLog

__all__ = [
    "CONVERT_SLICE",
    "INPUT_PREFIX",
    "OUTPUT_COLUMN",
    "OUTPUT_PREFIX",
    "PREDICTIONS_DIR",
    "REQUEST_COLUMNS",
    "PredictionLog",
    "PredictionScan",
    "model_folder_name",
    "now",
    "predictions_dir",
    "read_predictions",
    "records_to_table",
    "scan_predictions",
    "unify_tables",
]
