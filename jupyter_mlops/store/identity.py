"""Who acts, as the tracking server sees it, and what a refusal by that server means.

With MLflow's auth app on, the server knows the caller by ``MLFLOW_TRACKING_USERNAME`` (basic
auth) or by a bearer token (``MLFLOW_TRACKING_TOKEN``); the OS login name of the machine a kernel
runs on says nothing about who that is. Runs (``mlflow.user``) and the release audit trail record
the authenticated user whenever the tracking URI is a server, and the login name otherwise.
"""

from __future__ import annotations

import base64
import getpass
import json
import os

from ..errors import PermissionDenied

_CLAIMS = ("preferred_username", "username", "email", "sub")


def _token_user(token: str) -> str | None:
    """The user a JWT bearer token names (its payload is read, not verified: the server
    verifies it; this only labels records). None for opaque tokens."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        padded = parts[1] + "=" * (-len(parts[1]) % 4)
        claims = json.loads(base64.urlsafe_b64decode(padded))
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(claims, dict):
        return None
    for claim in _CLAIMS:
        value = claims.get(claim)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def is_server(tracking_uri: str) -> bool:
    return tracking_uri.startswith(("http://", "https://"))


def authenticated_user(tracking_uri: str) -> str | None:
    """The user the tracking server authenticates us as, if we can tell; None otherwise."""
    if not is_server(tracking_uri):
        return None
    name = os.environ.get("MLFLOW_TRACKING_USERNAME", "").strip()
    if name:
        return name
    token = os.environ.get("MLFLOW_TRACKING_TOKEN", "").strip()
    return _token_user(token) if token else None


def login_name() -> str | None:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None


def acting_user(tracking_uri: str) -> str | None:
    """The authenticated user on a tracking server, else the OS login name."""
    return authenticated_user(tracking_uri) or login_name()


def denied(exc: BaseException, tracking_uri: str) -> PermissionDenied | None:
    """One clear error for a request the tracking server refused (HTTP 403), else None."""
    code = getattr(exc, "error_code", None)
    status = getattr(exc, "get_http_status_code", None)
    try:
        http = status() if callable(status) else None
    except Exception:
        http = None
    if code != "PERMISSION_DENIED" and http != 403:
        return None
    user = authenticated_user(tracking_uri) or "(anonymous)"
    message = str(getattr(exc, "message", None) or exc).strip().splitlines()[0][:300]
    return PermissionDenied(
        f"permission denied by the tracking server at {tracking_uri} for user {user}: {message}",
        hint="ask an admin of the tracking server for EDIT (or MANAGE) permission",
    )
