"""Reading the prediction log: a time window of every file, skipping what cannot be read.

File names carry the first and last request time, so a window opens only the files it overlaps;
with a team server, the segments every replica shipped (``predlog_shipping``) are read too, each
name once, so a monitor anywhere counts every request exactly once.
Arrow files are memory-mapped (zero-copy). Hand-written or foreign logs may be dropped beside them
as ``*.jsonl`` (one record per line). Unreadable files and corrupted records are skipped and
counted, never raised.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ..limits import LINE_TEXT
from .predlog_format import FILE_NAME, _as_epoch, predictions_dir, records_to_table, unify_tables
from .predlog_shipping import SHIPPED_DIR, fetch_shipped

if TYPE_CHECKING:
    import pyarrow as pa

    from ..store.gateway import Gateway


@dataclass
class PredictionScan:
    """A window of the log, plus what had to be skipped to read it."""

    table: pa.Table
    files_read: int = 0
    corrupted_files: list[str] = field(default_factory=list)
    corrupted_records: int = 0
    remote_error: str | None = None

    @property
    def problems(self) -> list[str]:
        out = []
        if self.remote_error:
            out.append(f"shipped prediction logs unreadable, local ones only: {self.remote_error}")
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
    gw: Gateway,
    model: str,
    since: float | datetime | None = None,
    until: float | datetime | None = None,
) -> PredictionScan:
    """Every logged prediction row of ``model`` with ``since <= ts < until``; never raises for
    unreadable files or records: they are skipped and counted on the returned scan."""

    lo = _as_epoch(since) if since is not None else None
    hi = _as_epoch(until) if until is not None else None
    folder = predictions_dir(gw.ws, model)
    scan = PredictionScan(table=_empty_table())
    paths = _local_files(folder)
    if not gw.ws.is_embedded:  # the team server holds every replica's shipped segments
        try:
            paths += fetch_shipped(gw, model, lo, hi, {p.name for p in paths})
        except Exception as exc:  # the log still reads: say what is missing
            scan.remote_error = f"{type(exc).__name__}: {exc}"[:LINE_TEXT]
    tables = []
    for path in paths:
        table = _read_file(path, lo, hi, scan)
        if table is not None and table.num_rows:
            tables.append(table)
    if tables:
        scan.table = unify_tables(tables)
    return scan


def _local_files(folder: Path) -> list[Path]:
    """This folder's segments, shipped or not, each name once (the shipper may move one into
    ``shipped/`` while we list: we list the folder first, and ``_read_file`` looks there too)."""
    out: dict[str, Path] = {}
    for where in (folder, folder / SHIPPED_DIR):
        if where.is_dir():
            for path in sorted(where.iterdir()):
                if path.is_file() and not path.name.startswith("."):
                    out.setdefault(path.name, path)
    return list(out.values())


def _read_file(
    path: Path, lo: float | None, hi: float | None, scan: PredictionScan
) -> pa.Table | None:
    name = path.name
    match = FILE_NAME.match(name)
    if match:
        t0, t1 = int(match.group(1)) / 1000, int(match.group(2)) / 1000
        if (lo is not None and t1 < lo) or (hi is not None and t0 >= hi):
            return None
        try:
            table = _read_arrow(path)
        except FileNotFoundError:
            moved = path.parent / SHIPPED_DIR / name
            if not moved.exists():
                return None
            table = _read_arrow(moved)
        except Exception:
            scan.corrupted_files.append(name)
            return None
    elif name.endswith(".jsonl"):
        try:
            table, bad = _read_jsonl(path)
        except OSError:
            scan.corrupted_files.append(name)
            return None
        scan.corrupted_records += bad
    else:
        if name.endswith(".arrow"):
            scan.corrupted_files.append(name)
        return None
    scan.files_read += 1
    table, bad = _window(table, lo, hi)
    scan.corrupted_records += bad
    return table


def read_predictions(
    gw: Gateway,
    model: str,
    since: float | datetime | None = None,
    until: float | datetime | None = None,
) -> pa.Table:
    """The log window as an Arrow table (``.to_pandas()`` for a DataFrame); skip counts are in the
    schema metadata (``corrupted_files``, ``corrupted_records``). ``scan_predictions`` gives more."""
    scan = scan_predictions(gw, model, since, until)
    meta = {
        b"corrupted_files": str(len(scan.corrupted_files)).encode(),
        b"corrupted_records": str(scan.corrupted_records).encode(),
        b"files_read": str(scan.files_read).encode(),
    }
    return scan.table.replace_schema_metadata(meta)


def now() -> float:
    return time.time()
