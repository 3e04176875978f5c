"""Base class of every REST handler: service access, executor calls and JSON errors."""

from __future__ import annotations

import json
import math
import re
import secrets
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

from jupyter_server.base.handlers import APIHandler
from tornado.web import HTTPError

from ..errors import InvalidInput, MlopsError, NotFound
from ..store.identity import denied
from .errors import error_response
from .service import MlopsService

T = TypeVar("T")

SERVICE_KEY = "jupyter_mlops"
MAX_BODY = 64 * 1024


def strict_json(body: Any) -> str:
    """``body`` as JSON a browser can parse: a NaN or infinite number (a metric may be one) is
    answered as null."""
    try:
        return json.dumps(body, default=str, allow_nan=False)
    except ValueError:
        return json.dumps(_finite(body), default=str, allow_nan=False)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _not_json(token: str) -> None:
    """``NaN`` and ``Infinity`` are not JSON: refused like any other malformed body."""
    raise ValueError(f"{token} is not JSON")


class MlopsHandler(APIHandler):
    """Subclasses set ``auth_resource = "jupyter_mlops:<resource>"`` and decorate each method
    with ``@tornado.web.authenticated`` and ``@authorized`` (checked by scripts/check_auth.py).
    """

    auth_resource = "jupyter_mlops"

    @property
    def service(self) -> MlopsService:
        service: MlopsService = self.settings[SERVICE_KEY]
        return service

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run blocking domain code off the event loop (a tracking server's 403 becomes one
        clear PermissionDenied)."""
        try:
            return await self.service.run(fn, *args, **kwargs)
        except MlopsError:
            raise
        except Exception as exc:
            refused = denied(exc, self.service.workspace.tracking_uri)
            if refused is None:
                raise
            raise refused from None

    async def read(self, fn: Callable[..., T], *args: Any, empty: Any = None, **kwargs: Any) -> T:
        """Like ``call`` for a read: an embedded store never created answers ``empty`` (or 404
        when ``empty`` is None) instead of being created by the read."""
        if not self.service.store_exists():
            if empty is None:
                raise NotFound(
                    "nothing has been tracked in this workspace yet",
                    hint="track a cell with %%mlops track, or build the pipeline",
                )
            return cast(T, empty)
        return await self.call(fn, *args, **kwargs)

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

    def json_body(self, limit: int = MAX_BODY) -> dict[str, Any]:
        """The request's JSON object body ({} when empty); anything else is a 400."""
        raw = self.request.body or b""
        if len(raw) > limit:
            raise InvalidInput(f"request body over {limit} bytes")
        if not raw.strip():
            return {}
        try:
            data = json.loads(raw, parse_constant=_not_json)
        except (ValueError, RecursionError):  # RecursionError: nested past Python's limit
            raise InvalidInput(
                "the request body is not JSON", hint='send e.g. {"reason": "..."}'
            ) from None
        if not isinstance(data, dict):
            raise InvalidInput("the request body must be a JSON object")
        return data

    @staticmethod
    def text_field(
        body: dict[str, Any], name: str, *, required: bool = False, limit: int = 2000
    ) -> str | None:
        """A string field of a JSON body, stripped; None when absent and not required."""
        value = body.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                raise InvalidInput(f"{name} is required", hint=f'send {{"{name}": "..."}}')
            return None
        if not isinstance(value, str):
            raise InvalidInput(f"{name} must be a string, got {type(value).__name__}")
        if len(value) > limit:
            raise InvalidInput(f"{name} is longer than {limit} characters")
        return value.strip()

    @property
    def actor(self) -> str | None:
        """Who acts, for the release history: the Jupyter user's name."""
        user = self.current_user
        username = str(getattr(user, "username", "") or "")
        if not username or re.fullmatch(r"[0-9a-f]{32}", username):
            return None  # an anonymous token user: the domain records the login name instead
        return username

    def reply(self, body: Mapping[str, Any], status: int = 200) -> None:
        """Answer ``body``: one of the shapes of ``contract/`` (the REST contract)."""
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(strict_json(body))

    def require_execute(self) -> None:
        """Routes that run code in the server's process or its kernels (a build's notebooks, a
        validation's unpickled model and business notebook) also need the right to run kernels,
        as Jupyter's own kernel routes do."""
        if not self.authorizer.is_authorized(self, self.current_user, "execute", "kernels"):
            raise HTTPError(403, "this route runs code: it needs the right to execute kernels")

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        if isinstance(value, MlopsError) and value.http_status < 500:
            self.log.info("jupyter-mlops %s %s: %s", self.request.method, self.request.path, value)
            return
        if isinstance(value, (MlopsError, HTTPError)):
            super().log_exception(typ, value, tb)
            return
        self._error_id = secrets.token_hex(6)
        self.log.error(
            "jupyter-mlops error %s on %s %s",
            self._error_id,
            self.request.method,
            self.request.path,
            exc_info=(typ, value, tb),
        )

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc_info = kwargs.get("exc_info")
        exc = exc_info[1] if exc_info else None
        status, body = error_response(exc, status_code, getattr(self, "_error_id", None))
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body))
