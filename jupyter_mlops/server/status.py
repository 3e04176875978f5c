"""``GET status``: the store in use and the journal's queued and failed records, for the status bar.

Cheap and read-only: the store's kind and URI come from the workspace (no MLflow import, no
connection), and the counts from the ``.mlops/outbox/*.db`` journals opened read-only. A journal
that cannot be read right now (locked, half-created) is counted in ``unreadable``, not guessed.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import tornado.web
from jupyter_server.auth.decorator import authorized

from ..workspace import Workspace
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


def _count(path: Path) -> tuple[int, int] | None:
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=0.5)
    except sqlite3.Error:
        return None
    try:
        pending = con.execute("SELECT COUNT(*) FROM ops").fetchone()[0]
        failed = con.execute("SELECT COUNT(*) FROM failed_ops").fetchone()[0]
        return int(pending), int(failed)
    except sqlite3.Error:
        return None
    finally:
        con.close()


def journal_counts(ws: Workspace) -> dict[str, int]:
    """Queued and failed records over every journal of the workspace (none made if absent)."""
    folder = ws.state_dir / "outbox"
    totals = {"journals": 0, "pending": 0, "failed": 0, "unreadable": 0}
    if not folder.is_dir():
        return totals
    for path in sorted(folder.glob("*.db")):
        totals["journals"] += 1
        counts = _count(path)
        if counts is None:
            totals["unreadable"] += 1
            continue
        totals["pending"] += counts[0]
        totals["failed"] += counts[1]
    return totals


def status(ws: Workspace) -> dict[str, Any]:
    return {
        "store": {"kind": store_kind(ws), "uri": display_uri(ws.tracking_uri)},
        "journal": journal_counts(ws),
    }


class StatusHandler(MlopsHandler):
    auth_resource = "jupyter_mlops:status"

    @tornado.web.authenticated
    @authorized
    async def get(self) -> None:
        self.reply(await self.call(status, self.service.workspace))
