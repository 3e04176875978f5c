"""Base class of every REST handler: service access, executor calls and JSON errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from jupyter_server.base.handlers import APIHandler

from ..errors import InvalidInput, MlopsError
from .errors import error_response
from .service import MlopsService

T = TypeVar("T")

SERVICE_KEY = "jupyter_mlops"


class MlopsHandler(APIHandler):
    """Subclasses set ``auth_resource = "jupyter_mlops:<resource>"`` and decorate each method
    with ``@tornado.web.authenticated`` and ``@authorized`` (checked by scripts/check_auth.py).
    """

    auth_resource = "jupyter_mlops"

    @property
    def service(self) -> MlopsService:
        return self.settings[SERVICE_KEY]

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run blocking domain code off the event loop."""
        return await self.service.run(fn, *args, **kwargs)

    def int_argument(self, name: str, default: int, *, low: int, high: int) -> int:
        """A query argument that must be an integer within [low, high]."""
        raw = self.get_query_argument(name, None)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise InvalidInput(
                f"{name} must be an integer, got {raw!r}", hint=f"e.g. ?{name}={default}"
            ) from None
        if not low <= value <= high:
            raise InvalidInput(f"{name} must be between {low} and {high}, got {value}")
        return value

    def reply(self, body: dict[str, Any], status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body, default=str))

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        if isinstance(value, MlopsError) and value.http_status < 500:
            self.log.info("jupyter-mlops %s %s: %s", self.request.method, self.request.path, value)
            return
        super().log_exception(typ, value, tb)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc_info = kwargs.get("exc_info")
        exc = exc_info[1] if exc_info else None
        status, body = error_response(exc, status_code)
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body))
