"""Prometheus metrics for the serving router: requests, errors, latency per version, drift scores.

The counters are fed from the prediction log's writer thread (``PredictionLog`` calls
``observe_table`` after each flush), so the request path pays nothing for them and they lag the
traffic by at most one flush interval (1 s), far below any scrape interval. Drift gauges come from
the latest monitoring report (``.mlops/monitor/<model>/latest.json``), read at scrape time.

The router adds the endpoint with one route: ``metrics_route()`` (``serving/app.py``).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np  # noqa: TID253 -- needed at import here

from .health import request_arrays
from .predlog_format import model_folder_name

if TYPE_CHECKING:
    from collections.abc import Iterator

    import pyarrow as pa
    from prometheus_client.core import GaugeMetricFamily

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class _DriftCollector:
    """Gauges of the latest drift scores of every model whose log this process writes."""

    def __init__(self) -> None:
        self.sources: dict[str, Path] = {}
        self._cache: dict[str, tuple[float, dict[str, Any]]] = {}

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from prometheus_client.core import GaugeMetricFamily

        psi = GaugeMetricFamily(
            "mlops_feature_drift_psi",
            "Latest PSI of each input feature",
            labels=["model", "feature"],
        )
        ks = GaugeMetricFamily(
            "mlops_feature_drift_ks", "Latest KS statistic per feature", labels=["model", "feature"]
        )
        drifted = GaugeMetricFamily(
            "mlops_drifted_features", "Features drifted in the latest report", labels=["model"]
        )
        pred = GaugeMetricFamily(
            "mlops_prediction_drift_psi", "Latest PSI of the model's outputs", labels=["model"]
        )
        for model, path in list(self.sources.items()):
            data = self._read(model, path)
            if not data:
                continue
            for feature, value in (data.get("psi") or {}).items():
                psi.add_metric([model, feature], float(value))
            for feature, value in (data.get("ks") or {}).items():
                ks.add_metric([model, feature], float(value))
            drifted.add_metric([model], float(len(data.get("drifted") or [])))
            if data.get("prediction_psi") is not None:
                pred.add_metric([model], float(data["prediction_psi"]))
        yield from (psi, ks, drifted, pred)

    def _read(self, model: str, path: Path) -> dict[str, Any]:
        try:
            mtime = path.stat().st_mtime
        except OSError:
            return {}
        cached = self._cache.get(model)
        if cached and cached[0] == mtime:
            return cached[1]
        try:
            data: dict[str, Any] = json.loads(path.read_text())
        except (OSError, ValueError):
            return {}
        self._cache[model] = (mtime, data)
        return data


class ServingMetrics:
    """One registry with the router's metrics (a private registry: tests and apps stay isolated)."""

    def __init__(self, registry: Any = None) -> None:
        from prometheus_client import CollectorRegistry, Counter, Histogram

        self.registry = registry or CollectorRegistry()
        self.requests = Counter(
            "mlops_requests",
            "Requests served, by model, version, alias and HTTP status",
            ["model", "version", "alias", "status"],
            registry=self.registry,
        )
        self.errors = Counter(
            "mlops_request_errors",
            "Requests that failed (HTTP 5xx), by model and version",
            ["model", "version"],
            registry=self.registry,
        )
        self.rows = Counter(
            "mlops_predicted_rows", "Rows scored", ["model", "version"], registry=self.registry
        )
        self.latency = Histogram(
            "mlops_request_latency_seconds",
            "Request latency by model and version",
            ["model", "version"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.drift = _DriftCollector()
        self.registry.register(self.drift)
        self._lock = threading.Lock()

    def watch_drift(self, ws: Any, model: str) -> None:
        self.drift.sources[model] = (
            ws.state_dir / "monitor" / model_folder_name(model) / "latest.json"
        )

    def observe_table(self, table: pa.Table) -> None:
        """Count one flushed batch of the prediction log (one call per batch, not per request)."""
        req = request_arrays(table)
        if len(req) == 0:
            return
        models = (
            np.asarray(table["model"].to_numpy(zero_copy_only=False), dtype=object)
            if "model" in table.column_names
            else None
        )
        if models is not None and "row" in table.column_names:
            import pyarrow.compute as pc

            first = table.filter(pc.fill_null(pc.equal(table["row"], 0), True))
            models = np.asarray(first["model"].to_numpy(zero_copy_only=False), dtype=object)
        status = np.nan_to_num(req.status, nan=0).astype(np.int64)
        keys = np.array(
            [
                f"{m}\x00{v}\x00{a}\x00{s}"
                for m, v, a, s in zip(
                    models if models is not None else [""] * len(req),
                    req.version,
                    req.alias,
                    status,
                    strict=True,
                )
            ]
        )
        with self._lock:
            uniq, inverse = np.unique(keys, return_inverse=True)
            for i, key in enumerate(uniq):
                model, version, alias, code = key.split("\x00")
                model = model if model not in ("None", "") else "unknown"
                mask = inverse == i
                self.requests.labels(model, version, alias, code).inc(int(mask.sum()))
                if int(code) >= 500:
                    self.errors.labels(model, version).inc(int(mask.sum()))
                self.rows.labels(model, version).inc(int(req.n_rows[mask].sum()))
                hist = self.latency.labels(model, version)
                for value in req.latency[mask]:
                    if np.isfinite(value):
                        hist.observe(float(value) / 1000.0)


_default: ServingMetrics | None = None
_default_lock = threading.Lock()


def default_metrics() -> ServingMetrics:
    """The process-wide metrics the prediction logs feed and ``metrics_route()`` exposes."""
    global _default
    with _default_lock:
        if _default is None:
            _default = ServingMetrics()
        return _default


def metrics_text(metrics: ServingMetrics | None = None) -> str:
    from prometheus_client import generate_latest

    return generate_latest((metrics or default_metrics()).registry).decode()


def metrics_route(metrics: ServingMetrics | None = None, path: str = "/metrics") -> Any:
    """A starlette ``Route`` serving the scrape at exactly ``path`` (a ``Mount`` would redirect
    ``/metrics`` to ``/metrics/``)."""
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import Response
    from starlette.routing import Route

    registry = (metrics or default_metrics()).registry

    async def scrape(request: Any) -> Any:
        body = await run_in_threadpool(generate_latest, registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return Route(path, scrape, methods=["GET"])
