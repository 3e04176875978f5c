"""Who may do which release action on a team server with MLflow's auth app on.

Each release action asks the gateway for the authenticated user's effective permission on the
registered model (read from the auth app by ``store/auth_app.py``, with the same resolution the
server applies to its own requests) before it changes anything:

- EDIT to register a version of an existing model, or to validate one;
- MANAGE to move ``canary`` or ``champion`` (the aliases that take traffic), to change the
  canary's weight, to approve, or to roll back.

Admins may do everything. On the embedded store, or a server without the auth app, every
action is allowed (there is nobody to tell apart).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import PermissionDenied

if TYPE_CHECKING:
    from ..store.gateway import Gateway

LEVELS = {"DENY": -1, "NO_PERMISSIONS": 0, "READ": 1, "USE": 2, "EDIT": 3, "MANAGE": 4}
PROTECTED_ALIASES = ("canary", "champion")  # they take traffic


def alias_permission(alias: str) -> str:
    """What moving ``alias`` needs: MANAGE for the aliases that take traffic, else EDIT."""
    return "MANAGE" if alias in PROTECTED_ALIASES else "EDIT"


def require(gw: Gateway, model: str, permission: str, action: str) -> None:
    """Refuse ``action`` (``promote churn v3 to champion``) unless the authenticated user holds
    ``permission`` (EDIT or MANAGE) on registered model ``model``: one line naming what is
    missing, raised before anything changes."""
    if permission not in LEVELS:
        raise ValueError(f"unknown permission {permission!r}")
    held = gw.permission(model)
    if held is None or LEVELS.get(held, 0) >= LEVELS[permission]:
        return
    user = gw.authenticated_user() or "this user"
    raise PermissionDenied(
        f"{user} may not {action}: it needs {permission} permission on registered model "
        f"{model!r}, and {user} has {held}",
        hint=f"ask a MANAGE holder of {model!r} or an admin of the tracking server to grant it",
    )
