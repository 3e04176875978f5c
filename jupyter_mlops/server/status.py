"""``GET status``: the store in use and the journal's queued and failed records, for the status bar.

Cheap and read-only: the store's kind and URI come from the workspace (no MLflow import, no
connection), and the counts from the journals (``journal.sync.outbox_counts``, read-only; a journal
that cannot be read right now is counted in ``unreadable``, not guessed). ``GET outbox`` lists
the refused records themselves.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import tornado.web
from jupyter_server.auth.decorator import authorized

from ..journal.sync import outbox_counts
from ..workspace import Workspace
from . import contract
from .base import MlopsHandler


def store_kind(ws: Workspace) -> str:
    """``embedded`` for the workspace's own SQLite file, else the URI's scheme (http, postgresql...)."""
    if ws.is_embedded:
        return "embedded"
    scheme = urlsplit(ws.tracking_uri).scheme
    return scheme.split("+")[0] or "file"


def display_uri(uri: str) -> str:
    """The tracking URI without any password, safe to show in the browser."""
    parts = urlsplit(uri)
    if parts.password is None:
        return uri
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def status(ws: Workspace) -> contract.Status:
    counts = outbox_counts(ws)
    return {
        "store": {"kind": store_kind(ws), "uri": display_uri(ws.tracking_uri)},
        "journal": {
            "pending": counts.pending,
            "failed": counts.failed,
            "journals": counts.journals,
            "unreadable": counts.unreadable,
        },
    }


class StatusHandler(MlopsHandler):
    auth_resource = "jupyter_mlops:status"

    @tornado.web.authenticated
    @authorized
    async def get(self) -> None:
        self.reply(await self.call(status, self.service.workspace))
