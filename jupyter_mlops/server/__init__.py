"""Jupyter server extension: REST routes under ``/jupyter-mlops/api/`` over the domain layer.

Loading it is cheap (no MLflow import): the service is built once and kept in the Tornado
settings, and MLflow is imported by the first request that needs it, in a worker thread.
"""

from __future__ import annotations

from typing import Any

from jupyter_server.utils import url_path_join

from .approvals import ApprovalHandler, ApprovalsHandler
from .base import SERVICE_KEY
from .events import EventsHandler
from .first_page import warm_up_when_serving
from .labels import LabelsHandler
from .lineage import DatasetsHandler, LineageHandler, MonitorHandler
from .loop import LoopFiringsHandler, LoopHandler
from .loop_host import start_hosted_loop
from .models import (
    AliasHandler,
    HistoryHandler,
    ModelsHandler,
    ModelVersionHandler,
    ModelVersionsHandler,
    RollbacksHandler,
    ValidationHandler,
    ValidationsHandler,
)
from .not_found import UnknownRouteHandler
from .openapi import OpenApiHandler
from .outbox import OutboxHandler
from .pipeline import BuildHandler, BuildsHandler, PipelineHandler
from .runs import ComparisonsHandler, ExperimentsHandler, RunHandler, RunsHandler
from .service import MlopsService
from .status import StatusHandler

API_PREFIX = "jupyter-mlops/api"

# (path regex below API_PREFIX, handler). Each resource family adds its routes here, its
# handlers in a file of their own; register nothing elsewhere, or the catch-all below shadows it.
# Every route and method must also be in openapi.json (tests/test_server_openapi.py checks it).
# Path parameters match one segment ([^/]+); Tornado then percent-decodes them, so an encoded
# "/" or ".." arrives in the handler, where the domain's name checks refuse it with a 400.
_SEG = r"([^/]+)"
ROUTES: list[tuple[str, type]] = [
    (r"experiments", ExperimentsHandler),
    (r"runs", RunsHandler),
    (rf"runs/{_SEG}", RunHandler),
    (r"comparisons", ComparisonsHandler),
    (r"datasets", DatasetsHandler),
    (r"lineage", LineageHandler),
    (r"models", ModelsHandler),
    (rf"models/{_SEG}/versions", ModelVersionsHandler),
    (rf"models/{_SEG}/versions/{_SEG}", ModelVersionHandler),
    (rf"models/{_SEG}/versions/{_SEG}/validations", ValidationsHandler),
    (rf"models/{_SEG}/versions/{_SEG}/validations/{_SEG}", ValidationHandler),
    (rf"models/{_SEG}/aliases/{_SEG}", AliasHandler),
    (rf"models/{_SEG}/rollbacks", RollbacksHandler),
    (rf"models/{_SEG}/history", HistoryHandler),
    (rf"models/{_SEG}/approvals", ApprovalsHandler),
    (rf"models/{_SEG}/versions/{_SEG}/approvals/{_SEG}", ApprovalHandler),
    (r"loop", LoopHandler),
    (r"loop/firings", LoopFiringsHandler),
    (r"pipeline", PipelineHandler),
    (r"builds", BuildsHandler),
    (rf"builds/{_SEG}", BuildHandler),
    (rf"monitor/{_SEG}", MonitorHandler),
    (rf"monitor/{_SEG}/labels", LabelsHandler),
    (r"events", EventsHandler),
    (r"status", StatusHandler),
    (r"outbox", OutboxHandler),
    (r"openapi\.json", OpenApiHandler),
]


def setup_handlers(server_app: Any) -> None:
    """Register every route of the extension on ``server_app``'s web application."""
    web_app = server_app.web_app
    service = MlopsService(server_app.root_dir)
    web_app.settings[SERVICE_KEY] = service
    warm_up_when_serving(service.gateway)
    base_url = web_app.settings["base_url"]
    routes = [*ROUTES, (r"(.*)", UnknownRouteHandler)]
    handlers = [(url_path_join(base_url, API_PREFIX, path) + "$", cls) for path, cls in routes]
    web_app.add_handlers(".*$", handlers)
    try:
        start_hosted_loop(server_app, service.workspace)
    except Exception as exc:  # a mlops.yaml mistake must not stop the server: say it
        server_app.log.warning("jupyter-mlops: the hosted loop did not start: %s", exc)


__all__ = ["API_PREFIX", "ROUTES", "setup_handlers"]
