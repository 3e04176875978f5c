"""The prediction-log collector KServe's request logger posts to.

KServe's logger (``predictor.logger: {mode: all, url: ...}``) sends each request and each
successful response as a CloudEvent in binary mode: the body is the payload as the model server
saw it, the attributes are headers (``ce-id`` shared by a request and its response, ``ce-type``
``org.kubeflow.serving.inference.request`` or ``...response``, ``ce-time``,
``ce-inferenceservicename``). The collector pairs the two by id and appends one record per
request to the model's prediction log, the same log a router writes (``monitor/predlog_writer``),
so ``monitor``, the canary guard and late labels read KServe traffic as they read the router's.

- Inputs: Open Inference (v2) ``inputs`` tensors (one column per named input, as MLServer's
  pandas codec sends them), or v1 ``instances`` / MLflow's ``dataframe_split`` and
  ``dataframe_records``.
- The version that answered: the v2 response's ``model_version`` (the InferenceService sets
  ``MLSERVER_MODEL_VERSION``); its alias from ``MLOPS_VERSIONS`` (``3=champion,4=canary``).
- A request whose response never comes (KServe logs only 200s) is logged as a failed request
  after ``PENDING_TIMEOUT`` seconds; latency is the gap between the two events' times.

``python -m jupyter_mlops.serving.collector`` runs it (``MLOPS_MODEL``, ``MLOPS_VERSIONS``,
``HOST``/``PORT``); with ``MLFLOW_TRACKING_URI`` set the log ships to the team server.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from starlette.applications import Starlette  # noqa: TID253 -- the collector is an ASGI app
from starlette.requests import Request  # noqa: TID253 -- the collector is an ASGI app
from starlette.responses import Response  # noqa: TID253 -- the collector is an ASGI app
from starlette.routing import Route  # noqa: TID253 -- the collector is an ASGI app

from ..errors import MlopsError
from ..monitor.predlog import PredictionLog
from ..settings import Settings, environment_settings
from ..store.gateway import gateway_for
from ..workspace import Workspace
from .server import run_app

REQUEST_TYPE = "org.kubeflow.serving.inference.request"
RESPONSE_TYPE = "org.kubeflow.serving.inference.response"
PENDING_TIMEOUT = 30.0
MAX_PENDING = 100_000


def parse_versions(text: str | None) -> dict[str, str]:
    """``"3=champion,4=canary"`` -> {"3": "champion", "4": "canary"}."""
    out = {}
    for part in (text or "").split(","):
        version, _, alias = part.strip().partition("=")
        if version.strip():
            out[version.strip()] = alias.strip() or "champion"
    return out


def _epoch(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _flat(data: Any) -> list[Any]:
    if isinstance(data, list) and data and isinstance(data[0], list):
        return [x for row in data for x in (row if isinstance(row, list) else [row])]
    return list(data) if isinstance(data, list) else [data]


def _tensor_columns(tensors: list[Any]) -> dict[str, list[Any]]:
    """v2 tensors -> columns: one per named input; a 2-D tensor ``[n, k]`` gives k columns."""
    columns: dict[str, list[Any]] = {}
    for t in tensors:
        if not isinstance(t, dict) or "name" not in t:
            continue
        name, data, shape = str(t["name"]), t.get("data", []), t.get("shape") or []
        values = _flat(data)
        if len(shape) == 2 and shape[1] > 1:
            width = int(shape[1])
            for j in range(width):
                columns[f"{name}.{j}"] = values[j::width]
        else:
            columns[name] = values
    return columns


def request_inputs(body: Any) -> dict[str, list[Any]] | None:
    """The request's rows as columns, from any payload KServe's MLflow runtime accepts."""
    if not isinstance(body, dict):
        return None
    tensors = body.get("inputs")
    if isinstance(tensors, list) and all(
        isinstance(t, dict) and "name" in t and "data" in t for t in tensors
    ):
        return _tensor_columns(tensors)
    split = body.get("dataframe_split")
    if isinstance(split, dict) and "columns" in split:
        cols = [str(c) for c in split["columns"]]
        rows = split.get("data") or []
        return {c: [r[i] if i < len(r) else None for r in rows] for i, c in enumerate(cols)}
    records = body.get("dataframe_records") or body.get("instances")
    if isinstance(records, list) and all(isinstance(r, dict) for r in records):
        keys = list(dict.fromkeys(k for r in records for k in r))
        return {str(k): [r.get(k) for r in records] for k in keys}
    return None


def response_outputs(body: Any) -> Any:
    """The predictions: a list for one output, {name: list} for several."""
    if not isinstance(body, dict):
        return None
    if isinstance(body.get("outputs"), list):
        outs = [o for o in body["outputs"] if isinstance(o, dict)]
        if len(outs) == 1:
            return _flat(outs[0].get("data", []))
        return {str(o.get("name")): _flat(o.get("data", [])) for o in outs}
    return body.get("predictions")


@dataclass
class _Pending:
    received: float
    request: dict[str, Any] | None = None
    response: dict[str, Any] | None = None
    attributes: dict[str, str] = field(default_factory=dict)


class KServeLogCollector:
    """Pairs KServe's request and response events and appends them to the prediction log."""

    def __init__(
        self,
        model: str,
        prediction_log: Any,
        versions: dict[str, str] | None = None,
        pending_timeout: float = PENDING_TIMEOUT,
    ) -> None:
        self.model, self.log = model, prediction_log
        self.versions = versions or {}
        self.pending_timeout = pending_timeout
        self._pending: dict[str, _Pending] = {}
        self._lock = threading.Lock()
        self.stats = {"events": 0, "records": 0, "unanswered": 0, "rejected": 0}

    def receive(self, headers: dict[str, str], body: bytes) -> int:
        """One CloudEvent (binary mode); the HTTP status to answer."""
        event_id, kind = headers.get("ce-id"), headers.get("ce-type")
        if not event_id or kind not in (REQUEST_TYPE, RESPONSE_TYPE):
            self.stats["rejected"] += 1
            return 400
        try:
            payload = json.loads(body) if body else None
        except ValueError:
            payload = None
        attributes = {k[3:]: v for k, v in headers.items() if k.startswith("ce-")}
        self.stats["events"] += 1
        with self._lock:
            item = self._pending.get(event_id)
            if item is None:
                if len(self._pending) >= MAX_PENDING:
                    self.stats["rejected"] += 1
                    return 503
                item = self._pending[event_id] = _Pending(time.time())
            part = {"body": payload, "time": _epoch(attributes.get("time"))}
            if kind == REQUEST_TYPE:
                item.request, item.attributes = part, {**attributes, **item.attributes}
            else:
                item.response = part
                item.attributes = {**item.attributes, **attributes}
            done = item.request is not None and item.response is not None
            if done:
                del self._pending[event_id]
        if done:
            self._append(event_id, item)
        self.expire()
        return 200

    def expire(self, now: float | None = None) -> int:
        """Log requests whose response did not come in time as failed; how many."""
        cutoff = (now or time.time()) - self.pending_timeout
        with self._lock:
            stale = [(k, p) for k, p in self._pending.items() if p.received < cutoff]
            for key, _ in stale:
                del self._pending[key]
        for key, item in stale:
            if item.request is not None:
                self.stats["unanswered"] += 1
                self._append(key, item)
        return len(stale)

    def _version(self, response: Any) -> str | None:
        version = response.get("model_version") if isinstance(response, dict) else None
        if version is not None:
            return str(version)
        return next(iter(self.versions)) if len(self.versions) == 1 else None

    def _append(self, event_id: str, item: _Pending) -> None:
        request = item.request or {}
        response = item.response
        body = response["body"] if response else None
        version = self._version(body)
        t0, t1 = request.get("time"), response.get("time") if response else None
        latency = (t1 - t0) * 1000.0 if t0 is not None and t1 is not None else None
        self.log.append(
            {
                "ts": t0 if t0 is not None else item.received,
                "model": self.model,
                "version": version,
                "alias": self.versions.get(version or "", ""),
                "request_id": event_id,
                "latency_ms": latency,
                "status": 200 if response else 500,
                "inputs": request_inputs(request.get("body")),
                "outputs": response_outputs(body) if response else None,
                "error": None if response else "no response logged (the model server failed)",
            }
        )
        self.stats["records"] += 1


def create_collector_app(collector: KServeLogCollector) -> Starlette:
    async def receive(request: Request) -> Response:
        headers = {k.lower(): v for k, v in request.headers.items()}
        status = collector.receive(headers, await request.body())
        return Response(status_code=status)

    async def ping(request: Request) -> Response:
        return Response("\n")

    async def stats(request: Request) -> Response:
        return Response(json.dumps(collector.stats), media_type="application/json")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        # a graceful stop (SIGTERM): requests still waiting are logged, the log is written
        # (and shipped); uvicorn then re-raises the signal, so nothing after run_app runs
        collector.expire(now=float("inf"))
        close = getattr(collector.log, "close", None)
        if close is not None:
            close()

    return Starlette(
        routes=[
            Route("/", receive, methods=["POST"]),
            Route("/ping", ping, methods=["GET"]),
            Route("/stats", stats, methods=["GET"]),
        ],
        lifespan=lifespan,
    )


def main() -> int:
    env = os.environ
    settings = environment_settings()
    try:
        model = settings.model
        if not model:
            print(
                f"error: set {Settings.model.env} to the registered model's name", file=sys.stderr
            )
            return 2
        ws = Workspace.find()
        gw = gateway_for(ws)
        log = PredictionLog(gw, model)
        collector = KServeLogCollector(model, log, parse_versions(settings.versions))
        print(f"collecting KServe prediction logs of {model} on {env.get('PORT', '8080')}")
        run_app(
            create_collector_app(collector),
            env.get("HOST", "0.0.0.0"),
            int(env.get("PORT", "8080")),
        )
        log.close()
    except MlopsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
