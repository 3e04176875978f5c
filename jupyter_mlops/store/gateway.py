"""One workspace's way to MLflow: the object the domain receives and passes down.

A front end (the CLI, the REST handlers, the magics, the demo) opens one gateway for the
workspace it works in and hands it to the domain call; the domain passes the same gateway to
every helper instead of looking a client up again. The gateway holds the MLflow client, knows the
workspace's experiments, runs the read barrier (this process's queued journal records land
before a query reads), reads the model registry with clear errors, fetches a model's files, says
who acts and what the tracking server lets them do, and decides
when a read may skip the MLflow client (``direct_read``): the read models ask it for the file,
database or server to read, and never look at the URI themselves.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Literal, overload

from ..errors import InvalidInput, NotFound
from ..workspace import Workspace
from .auth_app import model_permission
from .client import client_for, experiment_id, on_forget, read_barrier
from .identity import authenticated_user, login_name
from .relocation import keep_in_place

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities.model_registry import ModelVersion, RegisteredModel

DirectRead = Literal["embedded", "tracking_db", "server_rest"]

_gateways: dict[tuple[str, str], Gateway] = {}
_guard = threading.Lock()


class Gateway:
    """MLflow for one workspace: ``client`` for calls, ``experiment_id`` for names."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self._client: MlflowClient | None = None

    def __repr__(self) -> str:
        return f"Gateway({self.ws.root}, {self.ws.tracking_uri})"

    @property
    def tracking_uri(self) -> str:
        return self.ws.tracking_uri

    @property
    def client(self) -> MlflowClient:
        """The MlflowClient every helper of a domain call uses: the process's one client for
        this tracking URI (the store created if needed), looked up on first use and then held,
        so a helper's ``gw.client`` is an attribute read, not another lookup under a lock."""
        client = self._client
        if client is None:
            client = self._client = client_for(self.ws)
        return client

    @overload
    def experiment_id(self, name: str | None = None, *, create: Literal[True] = True) -> str: ...
    @overload
    def experiment_id(self, name: str | None = None, *, create: bool) -> str | None: ...
    def experiment_id(self, name: str | None = None, *, create: bool = True) -> str | None:
        """Id of experiment ``name`` (default: the workspace's), created on first use."""
        return experiment_id(self.ws, name, create=create, client=self.client)

    def before_read(self) -> None:
        """Read your own writes: what this process still has queued lands first."""
        read_barrier(self.ws)

    # -- when a direct read is worth it -------------------------------------------------------
    def direct_read(self) -> DirectRead | None:
        """Which read may skip the MLflow client here (None: ask MLflow for everything).

        ``embedded``: the workspace's own SQLite file, read-only, once it exists (no MLflow
        import: the CLI's ``runs``/``show``, the panel's first page, a page sorted by a metric);
        ``tracking_db``: a team server's PostgreSQL that ``MLOPS_TRACKING_DB_URI`` lets us read
        (the runs page); ``server_rest``: a team server's REST API without importing MLflow (the
        shared build cache). Each answers exactly as MLflow does (tests/test_gateway_reads.py)."""
        if self.embedded_db() is not None:
            return "embedded"
        if self.tracking_db_uri() is not None:
            return "tracking_db"
        if self.rest_base() is not None:
            return "server_rest"
        return None

    def embedded_db(self) -> Path | None:
        """The embedded store's SQLite file, once it exists; None for any other store."""
        if not self.ws.is_embedded:
            return None
        db = self.ws.state_dir / "mlflow.db"
        try:
            if db.stat().st_size == 0:
                return None
        except OSError:
            return None
        keep_in_place(self.ws)  # its locations are this folder's before anything reads them
        return db

    def tracking_db_uri(self) -> str | None:
        """A libpq URI of the tracking database, when it is PostgreSQL and we may read it: a
        ``postgresql://`` tracking URI itself, or for a tracking server the database
        ``MLOPS_TRACKING_DB_URI`` names."""
        uri = self.ws.tracking_uri
        if not uri.startswith("postgresql"):
            uri = self.ws.settings.tracking_db_uri or ""
            if not uri.startswith("postgresql") or not self.ws.tracking_uri.startswith("http"):
                return None
        _scheme, sep, rest = uri.partition("://")  # postgresql+psycopg:// is libpq's postgresql://
        return f"postgresql://{rest}" if sep else None

    def rest_base(self) -> str | None:
        """The tracking server's URL when its REST API can be read without MLflow's client."""
        uri = self.ws.tracking_uri
        return uri if uri.startswith(("http://", "https://")) else None

    # -- the model registry ------------------------------------------------------------------
    def registered_model(self, name: str) -> RegisteredModel:
        """The registered model ``name``; NotFound when the registry has none."""
        from mlflow.exceptions import MlflowException

        try:
            return self.client.get_registered_model(name)
        except MlflowException:
            raise NotFound(
                f"no registered model {name!r}",
                hint="register one with `jupyter-mlops register RUN --name NAME`",
            ) from None

    def model_version(self, name: str, version: str | int) -> ModelVersion:
        """Version ``version`` (a number) of registered model ``name``; NotFound naming which."""
        from mlflow.exceptions import MlflowException

        self.registered_model(name)
        if not str(version).isdigit():
            raise InvalidInput(f"version must be a number, got {version!r}")
        try:
            return self.client.get_model_version(name, str(version))
        except MlflowException:
            raise NotFound(
                f"model {name!r} has no version {version}",
                hint=f"see `jupyter-mlops history {name}`",
            ) from None

    def download(self, uri: str, dst: Path) -> Path:
        """The artifacts at ``uri`` fetched into folder ``dst`` (made if missing); returns their
        local path. A caller that must not see an earlier download's files passes a new folder."""
        from mlflow.artifacts import download_artifacts

        dst.mkdir(parents=True, exist_ok=True)
        got = download_artifacts(
            artifact_uri=uri, dst_path=str(dst), tracking_uri=self.tracking_uri
        )
        return Path(got)

    def delete_artifacts(self, run_id: str, paths: list[str]) -> None:
        """Delete folders ``paths`` of run ``run_id``'s artifacts (MLflow's client cannot)."""
        from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

        if not paths:
            return
        artifact_uri = self.client.get_run(run_id).info.artifact_uri
        repo = get_artifact_repository(artifact_uri, tracking_uri=self.tracking_uri)
        for path in paths:
            repo.delete_artifacts(path)

    # -- who acts ----------------------------------------------------------------------------
    def actor(self, explicit: str | None = None) -> str:
        """Who acts: ``explicit`` (the signed-in Jupyter user), else the user the tracking server
        authenticates (a label cannot override it), else ``MLOPS_ACTOR`` (services, CI), else the
        login name."""
        if explicit:
            return explicit
        authenticated = authenticated_user(self.ws.tracking_uri)
        if authenticated:
            return authenticated
        return self.ws.settings.actor or login_name() or "unknown"

    def authenticated_user(self) -> str | None:
        """The user the tracking server knows us as; None on the embedded store or anonymous."""
        return authenticated_user(self.ws.tracking_uri)

    def permission(self, model: str) -> str | None:
        """Our permission on registered model ``model`` (``READ`` ... ``MANAGE``) as the
        tracking server's auth app resolves it; None where nothing checks permissions."""
        return model_permission(self.ws.tracking_uri, model)


def _forget_gateways() -> None:
    with _guard:
        _gateways.clear()


on_forget(_forget_gateways)


def gateway_for(ws: Workspace) -> Gateway:
    """The gateway of ``ws``: one per root and tracking URI in a process, renewed with the
    workspace object (a front end re-reads its workspace when mlops.yaml changes)."""
    key = (str(ws.root), ws.tracking_uri)
    with _guard:
        gw = _gateways.get(key)
        if gw is None or gw.ws is not ws:
            gw = _gateways[key] = Gateway(ws)
        return gw
