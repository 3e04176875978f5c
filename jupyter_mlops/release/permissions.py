"""Who may do which release action on a team server with MLflow's auth app on.

Each release action asks the tracking server for the authenticated user's effective permission
on the registered model (``GET /api/3.0/mlflow/users/permissions/get``, the same resolution the
server applies to its own requests) before it changes anything:

- EDIT to register a version of an existing model, or to validate one;
- MANAGE to move a protected alias (``canary`` and ``champion``, the ones that take traffic;
  ``release.protected_aliases`` once the release policy names them), to change the canary's
  weight, to approve, or to roll back.

Admins may do everything. On the embedded store, or a server without the auth app, every
action is allowed (there is nobody to tell apart).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import PermissionDenied
from ..store.identity import authenticated_user, is_server
from ..workspace import Workspace

if TYPE_CHECKING:
    from ..store.gateway import Gateway
    from .policy import ReleasePolicy

LEVELS = {"DENY": -1, "NO_PERMISSIONS": 0, "READ": 1, "USE": 2, "EDIT": 3, "MANAGE": 4}
DEFAULT_PROTECTED = ("canary", "champion")
_CURRENT = "/api/3.0/mlflow/users/current/permissions"
_PERMISSION = "/api/3.0/mlflow/users/permissions/get"
_auth_off: set[str] = set()  # tracking servers found without the auth app


def _get(ws: Workspace, path: str, params: dict[str, str] | None = None) -> dict[str, Any] | None:
    """The JSON answer of the auth app, or None when the server has no auth app (404)."""
    from mlflow.utils.credentials import get_default_host_creds
    from mlflow.utils.rest_utils import http_request

    answer = http_request(
        get_default_host_creds(ws.tracking_uri), path, "GET", params=params, max_retries=1
    )
    if answer.status_code == 404:
        return None
    if answer.status_code in (401, 403):
        raise PermissionDenied(
            f"the tracking server at {ws.tracking_uri} refused to say what "
            f"{authenticated_user(ws.tracking_uri) or 'this user'} may do ({answer.status_code})",
            hint="check MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD",
        )
    answer.raise_for_status()
    result: dict[str, Any] = answer.json()
    return result


def protected_aliases(policy: ReleasePolicy) -> tuple[str, ...]:
    """Aliases whose move needs MANAGE: the release policy's, else canary and champion."""
    named = getattr(policy, "protected_aliases", None)
    return tuple(named) if named else DEFAULT_PROTECTED


def alias_permission(policy: ReleasePolicy, alias: str) -> str:
    return "MANAGE" if alias in protected_aliases(policy) else "EDIT"


def effective_permission(gw: Gateway, model: str) -> str | None:
    """The user's permission on ``model`` as the server resolves it (``MANAGE`` for admins);
    None when the store does not check permissions."""
    ws = gw.ws
    uri = ws.tracking_uri
    if not is_server(uri) or uri in _auth_off:
        return None
    current = _get(ws, _CURRENT)
    if current is None:
        _auth_off.add(uri)
        return None
    if current.get("is_admin"):
        return "MANAGE"
    user = authenticated_user(uri)
    if not user:
        return "NO_PERMISSIONS"
    params = {"username": user, "resource_type": "registered_model", "resource_id": model}
    answer = _get(ws, _PERMISSION, params) or {}
    return str(answer.get("permission") or "NO_PERMISSIONS")


def require(gw: Gateway, model: str, permission: str, action: str) -> None:
    """Refuse ``action`` (``promote churn v3 to champion``) unless the authenticated user holds
    ``permission`` (EDIT or MANAGE) on registered model ``model``: one line naming what is
    missing, raised before anything changes."""
    if permission not in LEVELS:
        raise ValueError(f"unknown permission {permission!r}")
    held = effective_permission(gw, model)
    if held is None or LEVELS.get(held, 0) >= LEVELS[permission]:
        return
    user = authenticated_user(gw.tracking_uri) or "this user"
    raise PermissionDenied(
        f"{user} may not {action}: it needs {permission} permission on registered model "
        f"{model!r}, and {user} has {held}",
        hint=f"ask a MANAGE holder of {model!r} or an admin of the tracking server to grant it",
    )
