"""Which failures of a call to MLflow are worth retrying, and how often.

The replayer's steps are idempotent (each checks before it re-sends), so retrying is always safe;
the only question is whether retrying can help:

- ``DOWN``: the tracking server or its database is not answering right now (connection refused or
  reset, a timeout, 502/503/504, 429, SQLite "database is locked"). Retried without limit, with
  backoff: an outage only queues.
- ``SERVER``: the server answered with an internal error (other 5xx). Usually passing, but a
  record that makes the server fail every time must not block the journal forever: retried a few
  times, then treated as refused.
- ``REFUSED``: MLflow said no (4xx: invalid value, unknown run...) or our own record is broken.
  Retrying cannot help: the record moves to ``failed_ops`` with the reason, where
  ``jupyter-mlops sync --retry-failed`` or ``--discard-failed`` finds it.
"""

from __future__ import annotations

import sqlite3
from typing import Literal

Fault = Literal["down", "server", "refused"]
DOWN: Fault = "down"
SERVER: Fault = "server"
REFUSED: Fault = "refused"

# a record the server fails on this many times running is treated as refused
MAX_SERVER_ATTEMPTS = 5

_DOWN_CODES = {"TEMPORARILY_UNAVAILABLE", "REQUEST_LIMIT_EXCEEDED", "DEADLINE_EXCEEDED"}
_SERVER_CODES = {"INTERNAL_ERROR", "DATA_LOSS", "ABORTED"}
_DOWN_STATUSES = {429, 502, 503, 504}
_DOWN_TEXT = (
    "database is locked",
    "database table is locked",
    "failed with exception",  # MLflow's wording for a request that got no answer at all
    "connection",
    "max retries exceeded",
    "timed out",
    "timeout",
    "remote end closed",
    "broken pipe",
)


def _status_of(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    return status if isinstance(status, int) else None


def classify(exc: BaseException) -> Fault:
    """Sort one exception raised while replaying a record into DOWN, SERVER or REFUSED.

    An exception raised from another (MLflow turns a logged model lookup that got no answer
    into "invalid parameter value") is what its cause is, unless the cause is a refusal."""
    cause = exc.__cause__
    if cause is not None and cause is not exc:
        found = classify(cause)
        if found != REFUSED:
            return found
    return _classify_one(exc)


def _classify_one(exc: BaseException) -> Fault:
    text = str(exc).lower()
    if type(exc).__name__ == "ParentNotLanded":  # another journal lands it first: wait
        return DOWN
    if isinstance(exc, (ConnectionError, TimeoutError)):  # OSError subclasses: the network
        return DOWN
    if isinstance(exc, sqlite3.OperationalError):
        return DOWN if "locked" in text or "busy" in text else REFUSED
    status = _status_of(exc)  # requests.HTTPError from MLflow's artifact client
    if status is not None:
        if status in _DOWN_STATUSES:
            return DOWN
        return SERVER if status >= 500 else REFUSED
    code = getattr(exc, "error_code", None)
    if code is not None:  # an MlflowException (or RestException)
        if code in _DOWN_CODES or any(s in text for s in _DOWN_TEXT):
            return DOWN
        if "error code 5" in text:  # a non-JSON 5xx: a proxy or a restarting server
            return DOWN if any(f"error code {s}" in text for s in _DOWN_STATUSES) else SERVER
        return SERVER if code in _SERVER_CODES else REFUSED
    module = type(exc).__module__
    if module.startswith(("requests", "urllib3", "http.client", "sqlalchemy")):
        if "locked" in text or module.startswith(("requests", "urllib3", "http.client")):
            return DOWN
        return SERVER
    return REFUSED


def classify_text(message: str) -> Fault:
    """The fault a message describes, when only its text is left (the agent's status)."""
    text = message.lower()
    if any(s in text for s in _DOWN_TEXT) or "temporarily_unavailable" in text:
        return DOWN
    return SERVER if "internal" in text else REFUSED


def gives_up(fault: Fault, attempts: int) -> bool:
    """True when a record that failed ``attempts`` times with ``fault`` should stop being retried."""
    if fault == DOWN:
        return False
    if fault == SERVER:
        return attempts >= MAX_SERVER_ATTEMPTS
    return True
