"""What MLflow's auth app says the authenticated user may do with a registered model.

The release actions ask before they change anything (``release/permissions.py`` decides what
each action needs); this module only reads the answer, with the same resolution the server
applies to its own requests: ``GET /api/3.0/mlflow/users/current/permissions`` says whether the
user is an admin, ``GET /api/3.0/mlflow/users/permissions/get`` gives the effective permission on
one registered model. On the embedded store, or a server without the auth app (it answers 404),
there is nothing to read and every action is allowed.
"""

from __future__ import annotations

from typing import Any

from ..errors import PermissionDenied
from .identity import authenticated_user, is_server

_CURRENT = "/api/3.0/mlflow/users/current/permissions"
_PERMISSION = "/api/3.0/mlflow/users/permissions/get"
_auth_off: set[str] = set()  # tracking servers found without the auth app


def _get(tracking_uri: str, path: str, params: dict[str, str] | None = None) -> Any:
    """The JSON answer of the auth app, or None when the server has no auth app (404)."""
    from mlflow.utils.credentials import get_default_host_creds
    from mlflow.utils.rest_utils import http_request

    answer = http_request(
        get_default_host_creds(tracking_uri), path, "GET", params=params, max_retries=1
    )
    if answer.status_code == 404:
        return None
    if answer.status_code in (401, 403):
        raise PermissionDenied(
            f"the tracking server at {tracking_uri} refused to say what "
            f"{authenticated_user(tracking_uri) or 'this user'} may do ({answer.status_code})",
            hint="check MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD",
        )
    answer.raise_for_status()
    return answer.json()


def model_permission(tracking_uri: str, model: str) -> str | None:
    """The user's permission on registered model ``model`` as the server resolves it
    (``MANAGE`` for admins, ``NO_PERMISSIONS`` for an unknown user); None when the store does
    not check permissions."""
    if not is_server(tracking_uri) or tracking_uri in _auth_off:
        return None
    current = _get(tracking_uri, _CURRENT)
    if current is None:
        _auth_off.add(tracking_uri)
        return None
    if current.get("is_admin"):
        return "MANAGE"
    user = authenticated_user(tracking_uri)
    if not user:
        return "NO_PERMISSIONS"
    params = {"username": user, "resource_type": "registered_model", "resource_id": model}
    answer = _get(tracking_uri, _PERMISSION, params) or {}
    return str(answer.get("permission") or "NO_PERMISSIONS")
