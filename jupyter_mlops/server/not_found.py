"""Any other path under ``/jupyter-mlops/api/``: a JSON 404 (after authentication).

Registered last, so a typo in a client's URL gets the same JSON error shape as every other
answer instead of Jupyter's HTML error page, and reveals nothing to anonymous callers.
"""

from __future__ import annotations

import tornado.web
from jupyter_server.auth.decorator import authorized

from ..errors import NotFound
from .base import MlopsHandler


class UnknownRouteHandler(MlopsHandler):
    auth_resource = "jupyter_mlops:api"

    def _not_found(self, path: str) -> None:
        raise NotFound(
            f"no route /jupyter-mlops/api/{path}",
            hint="see jupyter_mlops/server/__init__.py for the routes",
        )

    @tornado.web.authenticated
    @authorized
    def get(self, path: str) -> None:
        self._not_found(path)

    @tornado.web.authenticated
    @authorized
    def post(self, path: str) -> None:
        self._not_found(path)

    @tornado.web.authenticated
    @authorized
    def put(self, path: str) -> None:
        self._not_found(path)

    @tornado.web.authenticated
    @authorized
    def patch(self, path: str) -> None:
        self._not_found(path)

    @tornado.web.authenticated
    @authorized
    def delete(self, path: str) -> None:
        self._not_found(path)
