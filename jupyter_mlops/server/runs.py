"""``GET /jupyter-mlops/api/runs?limit=N&experiment=NAME``: the workspace's recent runs."""

from __future__ import annotations

from typing import Any

import tornado.web
from jupyter_server.auth.decorator import authorized

from ..errors import NotFound
from .base import MlopsHandler
from .service import MlopsService

DEFAULT_LIMIT = 20
MAX_LIMIT = 1000


def recent_runs(service: MlopsService, limit: int, experiment: str | None) -> list[dict[str, Any]]:
    """Runs newest first; an embedded store that does not exist yet has none (and is not made)."""
    if not service.store_exists():
        if experiment:
            raise NotFound(
                f"no experiment named {experiment!r}",
                hint="nothing has been tracked in this workspace yet",
            )
        return []
    from ..store.runs import recent_runs as query

    return query(service.workspace, limit, experiment)


class RunsHandler(MlopsHandler):
    auth_resource = "jupyter_mlops:runs"

    @tornado.web.authenticated
    @authorized
    async def get(self) -> None:
        limit = self.int_argument("limit", DEFAULT_LIMIT, low=1, high=MAX_LIMIT)
        experiment = self.get_query_argument("experiment", None) or None
        runs = await self.call(recent_runs, self.service, limit, experiment)
        self.reply({"runs": runs})
