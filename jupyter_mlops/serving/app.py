"""The serving ASGI app: ``/invocations`` (MLflow payloads), ``/ping``, ``/version``.

Each answer carries ``X-Model-Version`` and ``X-Model-Alias`` (which version answered) and
``X-Request-Id``; every request, good or bad, is appended to the model's prediction log for
monitoring. Bodies over the limit get a 413 before a byte is parsed. Scoring runs on the event
loop thread: for the small requests a router serves, a thread hop would cost more than it saves.

Adding a route (e.g. Prometheus ``/metrics``) is one line in ``extra_routes``.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import secrets
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette  # noqa: TID253 -- needed at import here
from starlette.middleware import Middleware  # noqa: TID253 -- needed at import here
from starlette.requests import Request  # noqa: TID253 -- needed at import here
from starlette.responses import Response  # noqa: TID253 -- needed at import here
from starlette.routing import BaseRoute, Route  # noqa: TID253 -- needed at import here

from ..monitor.guard import start_guard
from ..monitor.predlog import PredictionLog
from .payload import BadPayload, parse_body, parse_csv, predictions_json, to_frame
from .router import LoadedVersion, ModelRouter

if TYPE_CHECKING:
    from ..store.gateway import Gateway

DEFAULT_MAX_BODY = 16 * 1024 * 1024
_JSON = "application/json"
_CSV = "text/csv"


log = logging.getLogger(__name__)


def _error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None, **extra: Any
) -> Response:
    body = json.dumps({"error_code": code, "message": message, **extra}, allow_nan=False).encode()
    return Response(body, status_code=status, media_type=_JSON, headers=headers)


def internal_error(what: str, headers: dict[str, str] | None = None) -> tuple[str, Response]:
    """(error id, 500 response): the caller sees only the id; the details go to the server log
    under it (log them with ``log.exception``)."""
    error_id = secrets.token_hex(6)
    message = f"{what} failed (error id {error_id}; details are in the server log)"
    return error_id, _error(500, "INTERNAL_ERROR", message, headers, error_id=error_id)


class ErrorIds:
    """ASGI middleware: an exception no route handled becomes a JSON 500 carrying an error id
    (the traceback goes to the server log under it), and the connection is kept."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Any) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:
            if started:
                raise
            error_id, response = internal_error("the request")
            log.error("error %s on %s %s", error_id, scope["method"], scope["path"], exc_info=exc)
            await response(scope, receive, send)


def open_prediction_log(gw: Gateway, model: str, router: ModelRouter) -> Any:
    """The monitoring prediction log every answered request is appended to (inputs outside the
    answering version's signature are dropped and counted, off the request path)."""

    return PredictionLog(gw, model, columns=router.signature_columns)


def start_canary_guard(gw: Gateway, model: str, enabled: bool | None) -> Any:
    """The monitoring canary guard beside the router (``serve --guard``, or ``monitor.canary.guard``
    in mlops.yaml); None when it is off."""

    return start_guard(gw, model, enabled)


def extra_routes() -> list[BaseRoute]:
    """Routes other layers add to the router (one line each)."""
    routes: list[BaseRoute] = []
    try:
        from ..monitor.prometheus import metrics_route  # noqa: PLC0415 -- prometheus-client is optional (the release extra)
    except ImportError:  # prometheus-client is optional (the `release` extra)
        pass
    else:
        routes.append(metrics_route())
    return routes


async def _read_limited(request: Request, limit: int) -> bytes | None:
    """The body, or None as soon as it exceeds ``limit`` (declared or streamed)."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                return None
        except ValueError:
            return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


class PredictionRecorder:
    """Appends one record per request (and per shadow score) to the model's prediction log."""

    def __init__(self, prediction_log: Any, model: str) -> None:
        self.prediction_log = prediction_log
        self.model = model

    def __call__(
        self,
        rid: str,
        version: Any,
        alias: str,
        t0: float,
        status: int,
        inputs: Any,
        outputs: Any,
        error: str | None,
    ) -> None:
        self.prediction_log.append(
            {
                "ts": time.time(),
                "model": self.model,
                "version": version,
                "alias": alias,
                "request_id": rid,
                "latency_ms": (time.perf_counter() - t0) * 1000.0,
                "status": status,
                "inputs": inputs,
                "outputs": outputs,
                "error": error,
            }
        )


class Invocations:
    """``POST /invocations``: check the body, pick the answering version, score, log."""

    def __init__(
        self, model: str, router: ModelRouter, record: PredictionRecorder, max_body: int
    ) -> None:
        self.model = model
        self.router = router
        self.record = record
        self.max_body = max_body
        self._ids = itertools.count(1)
        self._prefix = f"{os.getpid():x}-{int(time.time()):x}-"

    async def handle(self, request: Request) -> Response:
        t0 = time.perf_counter()
        rid = request.headers.get("x-request-id") or f"{self._prefix}{next(self._ids)}"
        ctype = request.headers.get("content-type", _JSON).split(";")[0].strip()
        body = self._accepted(rid, t0, await _read_limited(request, self.max_body), ctype)
        if isinstance(body, Response):
            return body
        table = self.router.table
        sticky = self.router.sticky_header
        slot, alias = self.router.choose(table, request.headers.get(sticky) if sticky else None)
        if slot is None:
            self.record(rid, None, "", t0, 503, None, None, "no champion")
            return _error(503, "NOT_READY", f"{self.model} has no champion loaded yet")
        answering, answering_alias = slot, alias
        if table.shadow and alias == "canary" and table.champion is not None:
            answering, answering_alias = table.champion, "champion"
        headers = {
            "X-Model-Version": answering.version,
            "X-Model-Alias": answering_alias,
            "X-Request-Id": rid,
        }
        parsed = self._parsed(rid, t0, body, ctype, answering, answering_alias, headers)
        if isinstance(parsed, Response):
            return parsed
        data, frame = parsed
        try:
            out_body, outputs = predictions_json(answering.predict(frame))
        except Exception as exc:
            return self._model_error(rid, t0, data, answering, answering_alias, headers, exc)
        self.record(rid, answering.version, answering_alias, t0, 200, data, outputs, None)
        if answering is not slot:  # shadow: score the canary too, never return its answer
            self._score_shadow(rid, data, slot)
        return Response(out_body, media_type=_JSON, headers=headers)

    def _accepted(self, rid: str, t0: float, body: bytes | None, ctype: str) -> bytes | Response:
        """The body, or 413 for one over the limit, 415 for a type other than JSON or CSV."""
        if body is None:
            self.record(rid, None, "", t0, 413, None, None, "body too large")
            return _error(
                413, "RESOURCE_LIMIT_EXCEEDED", f"body over the {self.max_body} byte limit"
            )
        if ctype not in (_JSON, _CSV):
            self.record(rid, None, "", t0, 415, None, None, f"content type {ctype}")
            return _error(
                415, "BAD_REQUEST", f"content type {ctype!r} not supported; send {_JSON} or {_CSV}"
            )
        return body

    def _parsed(
        self,
        rid: str,
        t0: float,
        body: bytes,
        ctype: str,
        answering: LoadedVersion,
        alias: str,
        headers: dict[str, str],
    ) -> tuple[dict[str, list[Any]], Any] | Response:
        """(columns, frame) in the answering version's schema, or the 400 saying what is wrong."""
        data = None
        try:
            data = parse_csv(body) if ctype == _CSV else parse_body(body, answering.columns)
            return data, to_frame(data, answering.columns)
        except BadPayload as exc:
            self.record(rid, answering.version, alias, t0, 400, data, None, str(exc))
            return _error(400, "BAD_REQUEST", str(exc), headers)
        except RecursionError:
            message = "body is nested too deeply"
            self.record(rid, answering.version, alias, t0, 400, None, None, message)
            return _error(400, "BAD_REQUEST", message, headers)

    def _model_error(
        self,
        rid: str,
        t0: float,
        data: Any,
        answering: LoadedVersion,
        alias: str,
        headers: dict[str, str],
        exc: Exception,
    ) -> Response:
        error_id, response = internal_error(f"model {answering.version}", headers)
        log.error("error %s: model %s v%s", error_id, self.model, answering.version, exc_info=exc)
        message = f"error {error_id}: {type(exc).__name__}: {exc}"
        self.record(rid, answering.version, alias, t0, 500, data, None, message)
        return response

    def _score_shadow(self, rid: str, data: Any, canary: LoadedVersion) -> None:
        t1 = time.perf_counter()
        try:
            _, shadow_out = predictions_json(canary.predict(to_frame(data, canary.columns)))
            self.record(rid, canary.version, "shadow", t1, 200, data, shadow_out, None)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            self.record(rid, canary.version, "shadow", t1, 500, data, None, error)


def status_routes(model: str, router: ModelRouter) -> list[BaseRoute]:
    """``/ping`` and ``/health`` (200 once a champion is loaded), ``/live`` (200 while the process
    answers: a liveness probe must not restart a router waiting for its first champion),
    ``/version`` (the table)."""

    async def ping(request: Request) -> Response:
        ok = router.table.champion is not None
        return Response("\n" if ok else "no champion loaded\n", status_code=200 if ok else 503)

    async def live(request: Request) -> Response:
        return Response("\n", status_code=200)

    async def version(request: Request) -> Response:
        t = router.table
        info = {
            "model": model,
            "champion": t.champion.version if t.champion else None,
            "canary": t.canary.version if t.canary else None,
            "canary_weight": t.weight,
            "shadow": t.shadow,
            "loaded": sorted(t.loaded, key=int),
            "generation": t.generation,
            "last_error": router.last_error,
        }
        return Response(json.dumps(info, default=str, allow_nan=False).encode(), media_type=_JSON)

    return [
        Route("/ping", ping, methods=["GET"]),
        Route("/health", ping, methods=["GET"]),
        Route("/live", live, methods=["GET"]),
        Route("/version", version, methods=["GET"]),
    ]


def serving_lifespan(
    gw: Gateway, model: str, router: ModelRouter, plog: Any, guard: bool | None
) -> Any:
    """Start the router's polling and the canary guard with the app; stop both and close the
    prediction log when it stops."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        router.start()
        app.state.canary_guard = start_canary_guard(gw, model, guard)
        try:
            yield
        finally:
            if app.state.canary_guard is not None:
                app.state.canary_guard.stop()
            router.stop()
            close = getattr(plog, "close", None)
            if close is not None:
                close()

    return lifespan


def create_app(
    gw: Gateway,
    model: str,
    *,
    router: ModelRouter | None = None,
    prediction_log: Any = None,
    max_body: int = DEFAULT_MAX_BODY,
    poll_interval: float = 0.5,
    sticky_header: str | None = "x-request-key",
    routes: Sequence[BaseRoute] = (),
    guard: bool | None = None,
) -> Starlette:
    router = router or ModelRouter(
        gw, model, poll_interval=poll_interval, sticky_header=sticky_header
    )
    plog = prediction_log if prediction_log is not None else open_prediction_log(gw, model, router)
    invocations = Invocations(model, router, PredictionRecorder(plog, model), max_body)
    app = Starlette(
        routes=[
            Route("/invocations", invocations.handle, methods=["POST"]),
            *status_routes(model, router),
            *extra_routes(),
            *routes,
        ],
        lifespan=serving_lifespan(gw, model, router, plog, guard),
        middleware=[Middleware(ErrorIds)],
    )
    app.state.router = router
    app.state.prediction_log = plog
    app.state.canary_guard = None
    return app
