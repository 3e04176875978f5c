"""Experiments, runs (paginated, filtered, sorted), one run in full, and runs side by side.

``GET experiments``; ``GET runs?experiment=&limit=&page_token=&order_by=&filter=``;
``GET runs/{id}``; ``GET comparisons?run=ID&run=ID``.
"""

from __future__ import annotations

import tornado.web
from jupyter_server.auth.decorator import authorized

from ..errors import InvalidInput, NotFound
from . import contract, first_page, queries
from .base import MlopsHandler
from .service import MlopsService

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


@first_page.light
def runs_page(
    service: MlopsService,
    *,
    experiment: str | None = None,
    limit: int = DEFAULT_LIMIT,
    page_token: str | None = None,
    order_by: list[str] | None = None,
    filter_string: str = "",
) -> contract.RunsPage:
    if not service.store_exists():
        if experiment:
            raise NotFound(
                f"no experiment named {experiment!r}",
                hint="nothing has been tracked in this workspace yet",
            )
        return {"runs": [], "next_page_token": None}
    fast = first_page.runs_page(
        service.gateway,
        experiment=experiment,
        limit=limit,
        page_token_in=page_token,
        order_by=order_by or [],
        filter_string=filter_string,
    )
    if fast is not None:
        return fast
    first_page.wait_for_warm_up()
    return queries.runs_page(
        service.gateway,
        experiment=experiment,
        limit=limit,
        page_token=page_token,
        order_by=order_by or [],
        filter_string=filter_string,
    )


@first_page.light
def experiments(service: MlopsService) -> list[contract.Experiment]:
    if not service.store_exists():
        return []
    fast = first_page.experiments(service.gateway)
    if fast is not None:
        return fast
    first_page.wait_for_warm_up()
    return queries.experiments(service.gateway)


class ExperimentsHandler(MlopsHandler):
    auth_resource = "jupyter_mlops:runs"

    @tornado.web.authenticated
    @authorized
    async def get(self) -> None:
        body: contract.ExperimentList = {"experiments": await self.call(experiments, self.service)}
        self.reply(body)


class RunsHandler(MlopsHandler):
    auth_resource = "jupyter_mlops:runs"

    @tornado.web.authenticated
    @authorized
    async def get(self) -> None:
        limit = self.int_argument("limit", DEFAULT_LIMIT, low=1, high=MAX_LIMIT)
        experiment = self.get_query_argument("experiment", None) or None
        token = self.get_query_argument("page_token", None) or None
        order_by = [o for o in self.get_query_arguments("order_by") if o.strip()]
        flt = self.get_query_argument("filter", "") or ""
        if len(flt) > 2000 or len(order_by) > 5:
            raise InvalidInput("filter or order_by too long")
        page = await self.call(
            runs_page,
            self.service,
            experiment=experiment,
            limit=limit,
            page_token=token,
            order_by=order_by,
            filter_string=flt,
        )
        self.reply(page)


class RunHandler(MlopsHandler):
    auth_resource = "jupyter_mlops:runs"

    @tornado.web.authenticated
    @authorized
    async def get(self, run_id: str) -> None:
        self.reply(await self.call(queries.run, self.service.gateway, run_id))


class ComparisonsHandler(MlopsHandler):
    auth_resource = "jupyter_mlops:runs"

    @tornado.web.authenticated
    @authorized
    async def get(self) -> None:
        ids = [r for r in self.get_query_arguments("run") if r]
        self.reply(await self.call(queries.comparison, self.service.gateway, ids))
