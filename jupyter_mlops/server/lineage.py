"""Dataset versions, the lineage graph around a node, and monitoring summaries.

``GET datasets?name=``; ``GET lineage?node=REF&direction=both|up|down`` (REF: a run id,
NAME@VERSION, models:/NAME/V, m-<id>, file:PATH inside the project); ``GET monitor/{model}
?window=1h`` (health and drift of the served model, computed on request, not recorded).
"""

from __future__ import annotations

import tornado.web
from jupyter_server.auth.decorator import authorized

from . import contract, queries
from .base import MlopsHandler


class DatasetsHandler(MlopsHandler):
    auth_resource = "jupyter_mlops:datasets"

    @tornado.web.authenticated
    @authorized
    async def get(self) -> None:
        name = self.get_query_argument("name", None) or None
        found = await self.read(queries.datasets, self.service.gateway, name, empty=[])
        answer: contract.DatasetList = {"datasets": found}
        self.reply(answer)


class LineageHandler(MlopsHandler):
    auth_resource = "jupyter_mlops:lineage"

    @tornado.web.authenticated
    @authorized
    async def get(self) -> None:
        node = self.get_query_argument("node", "")
        direction = self.get_query_argument("direction", "both")
        self.reply(await self.read(queries.lineage, self.service.gateway, node, direction))


class MonitorHandler(MlopsHandler):
    auth_resource = "jupyter_mlops:monitor"

    @tornado.web.authenticated
    @authorized
    async def get(self, model: str) -> None:
        window = self.get_query_argument("window", None) or None
        self.reply(await self.read(queries.monitor, self.service.gateway, model, window))
