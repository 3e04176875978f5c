"""Jupyter server extension: REST routes under ``/jupyter-mlops/api/`` over the domain layer.

Loading it is cheap (no MLflow import): the service is built once and kept in the Tornado
settings, and MLflow is imported by the first request that needs it, in a worker thread.
"""

from __future__ import annotations

from typing import Any

from jupyter_server.utils import url_path_join

from .base import SERVICE_KEY
from .runs import RunsHandler
from .service import MlopsService
from .unknown import UnknownRouteHandler

API_PREFIX = "jupyter-mlops/api"

# (path regex below API_PREFIX, handler). Each resource family adds its routes here, its
# handlers in a file of their own; register nothing elsewhere, or the catch-all below shadows it.
ROUTES: list[tuple[str, type]] = [
    (r"runs", RunsHandler),
]


def setup_handlers(server_app: Any) -> None:
    """Register every route of the extension on ``server_app``'s web application."""
    web_app = server_app.web_app
    web_app.settings[SERVICE_KEY] = MlopsService(server_app.root_dir)
    base_url = web_app.settings["base_url"]
    routes = [*ROUTES, (r"(.*)", UnknownRouteHandler)]
    handlers = [(url_path_join(base_url, API_PREFIX, path), cls) for path, cls in routes]
    web_app.add_handlers(".*$", handlers)


__all__ = ["API_PREFIX", "ROUTES", "setup_handlers"]
