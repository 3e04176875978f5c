"""The one translation of exceptions into HTTP answers for every route.

A user's mistake (``MlopsError``) answers its own status with a message and a hint; anything
unexpected answers 500 with an error id only, the traceback going to the server log under it.
"""

from __future__ import annotations

from http.client import responses

from tornado.web import HTTPError

from ..errors import MlopsError
from .contract import ErrorResponse

INTERNAL_ERROR = "internal error in jupyter-mlops"
INTERNAL_HINT = "see the Jupyter server log for details"


def error_response(
    exc: BaseException | None, status_code: int, error_id: str | None = None
) -> tuple[int, ErrorResponse]:
    """(status, JSON body) for ``exc`` raised while serving a request; ``error_id`` names the
    server log entry of an unexpected one."""
    if isinstance(exc, MlopsError):
        return exc.http_status, {"error": exc.message, "hint": exc.hint}
    if isinstance(exc, HTTPError):
        try:
            message = exc.log_message % exc.args if exc.log_message else None
        except (TypeError, ValueError):
            message = exc.log_message
        return exc.status_code, {
            "error": message or exc.reason or responses.get(exc.status_code, "error"),
            "hint": None,
        }
    if exc is None and status_code < 500:
        return status_code, {"error": responses.get(status_code, "error"), "hint": None}
    if error_id is None:
        return 500, {"error": INTERNAL_ERROR, "hint": INTERNAL_HINT}
    return 500, {
        "error": f"{INTERNAL_ERROR} (error id {error_id})",
        "hint": f"{INTERNAL_HINT} (search it for {error_id})",
        "error_id": error_id,
    }
