"""Operational health from the prediction log: request rate, errors and latency per version.

One log row is one predicted row; a request's own fields sit on its first row (``row == 0``), so
health works on those. Percentiles are computed per group with numpy (groups are few: versions x
time buckets), never per request in Python.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np  # noqa: TID253 -- needed at import here

if TYPE_CHECKING:
    import pyarrow as pa

UNKNOWN_VERSION = "(none)"


@dataclass
class Health:
    version: str
    requests: int = 0
    rows: int = 0
    rate_per_s: float = 0.0
    errors: int = 0  # 5xx, or an error with no status
    error_rate: float = 0.0
    client_errors: int = 0  # 4xx
    client_error_rate: float = 0.0
    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None
    latency_p99_ms: float | None = None
    latency_mean_ms: float | None = None
    first_ts: float | None = None
    last_ts: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RequestArrays:
    """Per-request columns of a log window, as numpy arrays."""

    ts: np.ndarray
    version: np.ndarray  # object array of str
    alias: np.ndarray
    status: np.ndarray  # float (NaN: unknown)
    latency: np.ndarray  # float ms (NaN: unknown)
    has_error: np.ndarray  # bool
    n_rows: np.ndarray

    def __len__(self) -> int:
        return len(self.ts)


def request_arrays(table: pa.Table) -> RequestArrays:
    import pyarrow.compute as pc

    if table.num_rows and "row" in table.column_names:
        table = table.filter(pc.fill_null(pc.equal(table["row"], 0), True))

    def floats(name: str) -> np.ndarray:
        if name not in table.column_names:
            return np.full(table.num_rows, np.nan)
        return cast("np.ndarray", table[name].to_numpy().astype(np.float64, copy=False))

    def texts(name: str) -> np.ndarray:
        if name not in table.column_names:
            return np.full(table.num_rows, UNKNOWN_VERSION, dtype=object)
        col = pc.fill_null(table[name].cast("string"), UNKNOWN_VERSION)
        return np.asarray(col.to_numpy(zero_copy_only=False), dtype=object)

    has_error = (
        np.asarray(pc.is_valid(table["error"]).to_numpy(zero_copy_only=False), dtype=bool)
        if "error" in table.column_names
        else np.zeros(table.num_rows, dtype=bool)
    )
    n_rows = floats("n_rows")
    return RequestArrays(
        floats("ts"),
        texts("version"),
        texts("alias"),
        floats("status"),
        floats("latency_ms"),
        has_error,
        np.nan_to_num(n_rows, nan=0.0).astype(np.int64),
    )


def _summarise(version: str, req: RequestArrays, mask: np.ndarray, span_s: float) -> Health:
    h = Health(version)
    n = int(mask.sum())
    h.requests = n
    if n == 0:
        return h
    status = req.status[mask]
    h.rows = int(req.n_rows[mask].sum())
    server = (status >= 500) | (np.isnan(status) & req.has_error[mask])
    client = (status >= 400) & (status < 500)
    h.errors, h.client_errors = int(server.sum()), int(client.sum())
    h.error_rate, h.client_error_rate = h.errors / n, h.client_errors / n
    ts = req.ts[mask]
    h.first_ts, h.last_ts = float(ts.min()), float(ts.max())
    h.rate_per_s = n / span_s if span_s > 0 else float(n)
    lat = req.latency[mask]
    lat = lat[np.isfinite(lat)]
    if len(lat):
        p50, p95, p99 = np.percentile(lat, [50, 95, 99])
        h.latency_p50_ms, h.latency_p95_ms, h.latency_p99_ms = float(p50), float(p95), float(p99)
        h.latency_mean_ms = float(lat.mean())
    return h


def _span(req: RequestArrays, since: float | None, until: float | None) -> float:
    if len(req) == 0:
        return 0.0
    lo = since if since is not None else float(req.ts.min())
    hi = until if until is not None else float(req.ts.max())
    return max(hi - lo, 1e-9)


def health_by_version(
    table: pa.Table | RequestArrays, since: float | None = None, until: float | None = None
) -> dict[str, Health]:
    """Health of each version that answered in the window, plus ``"all"`` for the whole model."""
    req = table if isinstance(table, RequestArrays) else request_arrays(table)
    span = _span(req, since, until)
    out = {"all": _summarise("all", req, np.ones(len(req), dtype=bool), span)}
    for version in sorted(set(req.version.tolist())):
        out[version] = _summarise(version, req, req.version == version, span)
    return out


def health_over_time(
    table: pa.Table | RequestArrays,
    buckets: int = 12,
    since: float | None = None,
    until: float | None = None,
) -> list[dict[str, Any]]:
    """Per time bucket and version: requests, error rate and latency percentiles (for plots)."""
    req = table if isinstance(table, RequestArrays) else request_arrays(table)
    if len(req) == 0:
        return []
    lo = since if since is not None else float(req.ts.min())
    hi = until if until is not None else float(req.ts.max()) + 1e-6
    width = max((hi - lo) / buckets, 1e-6)
    idx = np.clip(((req.ts - lo) // width).astype(np.int64), 0, buckets - 1)
    rows = []
    for b in np.unique(idx):
        in_b = idx == b
        for version in sorted(set(req.version[in_b].tolist())):
            h = _summarise(version, req, in_b & (req.version == version), width)
            row = h.to_dict()
            row["bucket_start"] = lo + b * width
            rows.append(row)
    return rows
