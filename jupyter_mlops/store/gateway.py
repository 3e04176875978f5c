"""One workspace's way to MLflow: the object the domain receives and passes down.

A front end (the CLI, the REST handlers, the magics, the loop) opens one gateway for the
workspace it works in and hands it to the domain call; the domain passes the same gateway to
every helper instead of looking a client up again. The gateway holds the MLflow client, knows the
workspace's experiments, and runs the read barrier (this process's queued journal records land
before a query reads).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from ..workspace import Workspace
from .client import client_for, experiment_id, read_barrier

if TYPE_CHECKING:
    from mlflow import MlflowClient

_gateways: dict[tuple[str, str], Gateway] = {}
_guard = threading.Lock()


class Gateway:
    """MLflow for one workspace: ``client`` for calls, ``experiment_id`` for names."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws

    def __repr__(self) -> str:
        return f"Gateway({self.ws.root}, {self.ws.tracking_uri})"

    @property
    def client(self) -> MlflowClient:
        """The process's one MlflowClient for this tracking URI (the store created if needed)."""
        return client_for(self.ws)

    def experiment_id(self, name: str | None = None, *, create: bool = True) -> str | None:
        """Id of experiment ``name`` (default: the workspace's), created on first use."""
        return experiment_id(self.ws, name, create=create, client=self.client)

    def before_read(self) -> None:
        """Read your own writes: what this process still has queued lands first."""
        read_barrier(self.ws)


def gateway_for(ws: Workspace) -> Gateway:
    """The gateway of ``ws`` (one per root and tracking URI in a process)."""
    key = (str(ws.root), ws.tracking_uri)
    with _guard:
        gw = _gateways.get(key)
        if gw is None:
            gw = _gateways[key] = Gateway(ws)
        return gw
