"""The workspace's journal: records waiting for MLflow and records it refused.

``GET outbox`` -> ``{"pending": n, "failed": n, "journals": n, "refused": [...]}``, for a status
bar. It reads only local journal files, so it answers while the tracking server is down, which
is exactly when it matters.
"""

from __future__ import annotations

import asyncio

import tornado.web
from jupyter_server.auth.decorator import authorized

from ..journal.sync import failed_records, outbox_counts
from ..workspace import Workspace
from . import contract
from .base import MlopsHandler

MAX_LISTED = 50


def outbox_state(ws: Workspace) -> contract.OutboxState:
    counts = outbox_counts(ws)
    refused = failed_records(ws)[:MAX_LISTED] if counts.failed else []
    return {
        "pending": counts.pending,
        "failed": counts.failed,
        "journals": counts.journals,
        "unreadable": counts.unreadable,
        "refused": [
            {
                "journal": r["journal"],
                "seq": r["seq"],
                "kind": r["kind"],
                "run_key": r["run_key"],
                "error": r["error"],
                "failed": r["failed"],
            }
            for r in refused
        ],
    }


class OutboxHandler(MlopsHandler):
    auth_resource = "jupyter_mlops:runs"

    @tornado.web.authenticated
    @authorized
    async def get(self) -> None:
        loop = asyncio.get_running_loop()  # not service.run: no tracking server needed
        self.reply(await loop.run_in_executor(None, outbox_state, self.service.workspace))
