"""Writing the prediction log: one cheap ``append`` per request, columnar files written off-path.

The router calls ``PredictionLog.append(record)`` for every request, so the request path only
takes a lock and appends a reference to a list (well under a microsecond). A background thread
turns the buffered records into one Arrow IPC file per flush, written to a temporary name and
renamed, so a reader never sees a half-written file and a crash loses at most the last second of
records.

Two things kept request threads waiting on the GIL while the writer worked. pyarrow's first
``pa.array`` call imports pandas (about 250 ms, GIL held): the log now pays it when it is created,
before traffic. And converting a whole batch is pure Python for milliseconds on end, so a request
thread waited up to the interpreter's 5 ms switch interval again and again: the conversion now
runs in slices of ``CONVERT_SLICE`` records and yields the GIL between them.
"""

from __future__ import annotations

import atexit
import itertools
import logging
import math
import os
import secrets
import threading
import time
import weakref
from collections.abc import Callable, Collection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError
from ..workspace import Workspace
from .predlog_format import FILE_NAME, FILE_SEQ, predictions_dir, records_to_table, unify_tables
from .predlog_shipping import SHIPPED_DIR, SegmentShipper
from .prometheus import default_metrics
from .thresholds import LogSettings, load_monitor_config

if TYPE_CHECKING:
    import pyarrow as pa

    from ..store.gateway import Gateway

CONVERT_SLICE = 256
MAX_UNSIGNED_COLUMNS = 200
PRUNE_EVERY = 30.0

_open_logs: weakref.WeakSet[PredictionLog] = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    for log in list(_open_logs):
        log.close()


def convert_in_slices(batch: list[dict[str, Any]], size: int | None = None) -> tuple[pa.Table, int]:
    """``records_to_table`` a slice at a time, yielding the GIL between slices, so that request
    threads wait at most one slice's conversion (about a millisecond), not the whole batch's
    (up to the interpreter's 5 ms switch interval at a time, again and again)."""
    size = size or CONVERT_SLICE
    if len(batch) <= size:
        return records_to_table(batch)
    tables, bad = [], 0
    for start in range(0, len(batch), size):
        table, unusable = records_to_table(batch[start : start + size])
        bad += unusable
        if table.num_rows:
            tables.append(table)
        time.sleep(0)  # a waiting request thread takes the GIL now
    if not tables:
        return records_to_table([])[0], bad
    return unify_tables(tables).combine_chunks(), bad


_warmed = False


def _warm_up() -> None:
    global _warmed
    if _warmed:
        return
    import pyarrow.compute as pc
    import pyarrow.ipc  # noqa: F401

    table, _ = records_to_table([{"ts": 0.0, "inputs": {"x": [1.0, "a"]}, "outputs": [1]}])
    pc.min_max(table["ts"])
    _warmed = True


class PredictionLog:
    """Buffered, append-only prediction log for one model, flushed by a background thread.

    ``append`` never does I/O and never raises for a malformed record (those are counted at flush
    time as ``bad_records``). ``max_buffer`` bounds memory when the disk cannot keep up: the
    oldest records are dropped and counted in ``dropped``. ``on_flush(table)`` (for example the
    Prometheus metrics) runs on the writer thread after each file is written.
    """

    def __init__(
        self,
        gw: Gateway,
        model_name: str,
        *,
        flush_interval: float = 1.0,
        flush_rows: int = 20_000,
        max_buffer: int = 1_000_000,
        on_flush: Callable[[pa.Table], None] | None = None,
        ship: bool | None = None,
        ship_interval: float | None = None,
        columns: Callable[[str | None], Collection[str] | None] | None = None,
    ) -> None:
        ws = self.ws = gw.ws
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
            "dropped_keys": 0,
            "pruned_files": 0,
        }
        self.columns = columns  # version -> its signature's input names (None: unknown)
        settings = _log_settings(ws)
        self.max_age, self.max_bytes = settings.max_age, int(settings.max_mb * 1024 * 1024)
        self._pruned_at = 0.0
        self._buf: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._wake = threading.Event()
        self._closed = False
        self._token = secrets.token_hex(3)
        _warm_up()  # pyarrow's first use holds the GIL ~250 ms: pay it here, not mid-traffic
        self._thread = threading.Thread(
            target=self._run, name=f"prediction-log-{model_name}", daemon=True
        )
        self._thread.start()
        # with a team server, closed segments are shipped there (None: whenever not embedded)
        self.shipper: SegmentShipper | None = None
        if ship if ship is not None else not ws.is_embedded:
            interval = ship_interval if ship_interval is not None else settings.ship_interval
            self.shipper = SegmentShipper(
                gw, model_name, interval=interval, max_age=settings.max_age
            ).start()
        _open_logs.add(self)

    def append(self, record: dict[str, Any]) -> None:
        """Queue one request's record; the caller must not mutate it afterwards."""
        with self._lock:
            buf = self._buf
            buf.append(record)
            if len(buf) >= self.flush_rows:
                self._wake.set()

    def _take(self) -> list[dict[str, Any]]:
        with self._lock:
            batch, self._buf = self._buf, []
        return batch

    def _run(self) -> None:
        while not self._closed:
            self._wake.wait(self.flush_interval)
            self._wake.clear()
            try:
                self.flush()
                if time.monotonic() - self._pruned_at > PRUNE_EVERY:
                    self.prune()
            except Exception:  # never let the writer thread die; counted in stats
                self.stats["write_errors"] += 1

    def prune(self) -> int:
        """Apply the retention policy (``monitor.log.max_age`` and ``max_mb``) to this folder."""
        self._pruned_at = time.monotonic()
        removed = prune_segments(self.folder, max_age=self.max_age, max_bytes=self.max_bytes)
        self.stats["pruned_files"] += removed
        return removed

    def _keep_signature_columns(self, batch: list[dict[str, Any]]) -> None:
        """Inputs outside the answering version's signature are not logged, only counted (and
        a version without a signature logs at most ``MAX_UNSIGNED_COLUMNS`` inputs)."""
        dropped = 0
        for rec in batch:
            inputs = rec.get("inputs") if isinstance(rec, dict) else None
            if not isinstance(inputs, dict) or "columns" in inputs:
                continue
            names = self.columns(rec.get("version")) if self.columns is not None else None
            if names is not None:
                kept = {k: v for k, v in inputs.items() if k in names}
            elif len(inputs) > MAX_UNSIGNED_COLUMNS:
                kept = dict(itertools.islice(inputs.items(), MAX_UNSIGNED_COLUMNS))
            else:
                continue
            if len(kept) != len(inputs):
                dropped += len(inputs) - len(kept)
                rec["inputs"] = kept
        self.stats["dropped_keys"] += dropped

    def flush(self) -> Path | None:
        """Write everything buffered so far to one new file (None when nothing was buffered)."""
        with self._write_lock:
            batch = self._take()
            if not batch:
                return None
            self.stats["appended"] += len(batch)
            try:
                self._keep_signature_columns(batch)
                table, bad = convert_in_slices(batch)
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
            # inside the lock: when flush() returns, every earlier record is on disk *and* counted
            # (the writer thread may be mid-batch when a caller flushes)
            if self.on_flush is not None:
                try:
                    self.on_flush(table)
                except Exception:
                    self.stats["write_errors"] += 1
        return path

    def _requeue(self, batch: list[dict[str, Any]]) -> None:
        with self._lock:
            merged = batch + self._buf
            overflow = len(merged) - self.max_buffer
            if overflow > 0:
                self.stats["dropped"] += overflow
                merged = merged[overflow:]
            self._buf = merged

    def _write(self, table: pa.Table) -> Path:
        return write_segment(self.folder, table, self._token)

    def close(self, timeout: float = 10.0) -> None:
        """Stop the writer thread and write whatever is still buffered."""
        if self._closed:
            return
        self._closed = True
        self._wake.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)
        self.flush()
        if self.shipper is not None:
            self.shipper.close()  # a graceful stop ships what this replica holds
        _open_logs.discard(self)

    def __enter__(self) -> PredictionLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_segment(folder: Path, table: pa.Table, token: str | None = None) -> Path:
    """``table`` as one closed segment of the log in ``folder`` (written aside, then renamed:
    a reader never sees half of it). Batch scoring writes its batches this way, from any
    process, without a ``PredictionLog``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    bounds = pc.min_max(table["ts"]).as_py()
    t0, t1 = int(bounds["min"] * 1000), int(math.ceil(bounds["max"] * 1000))
    # unique even for two logs of one model in one process, or equal pids in two containers
    name = f"{t0}-{t1}-{os.getpid()}-{next(FILE_SEQ)}-{token or secrets.token_hex(3)}.arrow"
    final = folder / name
    tmp = folder / f".tmp-{name}"
    options = pa.ipc.IpcWriteOptions()  # uncompressed: read back by memory map, zero-copy
    with (
        pa.OSFile(str(tmp), "wb") as sink,
        pa.ipc.new_file(sink, table.schema, options=options) as w,
    ):
        w.write_table(table)
    os.replace(tmp, final)
    return final


def prune_segments(folder: Path, *, max_age: float, max_bytes: int) -> int:
    """Delete segments written more than ``max_age`` seconds ago, then the oldest (shipped ones
    first) while the folder holds more than ``max_bytes``; returns how many were deleted. Age is
    the file's, not its requests' (which a log replayed from elsewhere may carry from long ago)."""
    now = time.time()
    segments = []
    for where in (folder / SHIPPED_DIR, folder):
        if not where.is_dir():
            continue
        for path in where.iterdir():
            if FILE_NAME.match(path.name) and path.is_file():
                st = path.stat()
                segments.append((where == folder, st.st_mtime, path, st.st_size))
    segments.sort()  # shipped first, then oldest first
    total, removed = sum(s[3] for s in segments), 0
    for _unshipped, written, path, size in segments:
        if written >= now - max_age and total <= max_bytes:
            continue
        try:
            path.unlink()
        except OSError:
            continue
        total -= size
        removed += 1
    return removed


def _log_settings(ws: Workspace) -> LogSettings:
    try:
        return load_monitor_config(ws).log
    except ConfigError as exc:  # serving must not stop for a monitoring setting
        logging.getLogger(__name__).warning("prediction log settings ignored: %s", exc)
        return LogSettings()


def _default_on_flush(ws: Workspace, model: str) -> Callable[[pa.Table], None] | None:
    """Feed the process-wide Prometheus metrics, when prometheus-client is installed."""
    try:
        metrics = default_metrics()
    except ImportError:
        return None
    metrics.watch_drift(ws, model)
    return metrics.observe_table
