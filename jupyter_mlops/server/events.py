"""Events out: ``GET events?limit=20&state=failed`` -> the declared webhooks and the newest
deliveries with their state (``contract.EventStatus``). It reads local files only (mlops.yaml and
the delivery queue), so it answers while the tracking server is down.
"""

from __future__ import annotations

import asyncio
from typing import cast

import tornado.web
from jupyter_server.auth.decorator import authorized

from ..errors import InvalidInput
from ..journal.event_status import event_status
from ..workspace import Workspace
from . import contract
from .base import MlopsHandler

STATES = ("pending", "delivered", "failed")


def events_state(ws: Workspace, limit: int, state: str | None) -> contract.EventStatus:
    return cast(contract.EventStatus, event_status(ws, limit=limit, state=state).to_dict())


class EventsHandler(MlopsHandler):
    auth_resource = "jupyter_mlops:events"

    @tornado.web.authenticated
    @authorized
    async def get(self) -> None:
        limit = self.int_argument("limit", 20, low=1, high=500)
        state = self.get_query_argument("state", None) or None
        if state is not None and state not in STATES:
            raise InvalidInput(f"state must be one of {', '.join(STATES)}, got {state!r}")
        loop = asyncio.get_running_loop()  # not service.run: no tracking server needed
        self.reply(
            await loop.run_in_executor(None, events_state, self.service.workspace, limit, state)
        )
