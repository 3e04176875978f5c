"""A few read-only calls to an MLflow tracking server's REST API, without importing MLflow.

Importing MLflow costs about 1.2 s of CPU. A fully cached build must not pay it, even when its
cache entries come from the team server (the shared build cache): looking a key up takes one
search and, for proxied artifacts (``mlflow-artifacts:`` URIs, ``--artifacts-destination``), a
few plain downloads. Credentials are MLflow's own variables: ``MLFLOW_TRACKING_USERNAME`` and
``MLFLOW_TRACKING_PASSWORD`` (basic auth) or ``MLFLOW_TRACKING_TOKEN`` (bearer), and
``MLFLOW_TRACKING_INSECURE_TLS`` / ``MLFLOW_TRACKING_SERVER_CERT_PATH`` for TLS. Anything else
(another artifact store, another kind of tracking URI) is for the MLflow client.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import ssl
import urllib.parse
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from http.client import HTTPResponse

TIMEOUT = 30.0
PROXIED = "mlflow-artifacts:"


class RestError(OSError):
    """The server answered with an error status, or not at all."""


def serves_rest(tracking_uri: str) -> bool:
    return tracking_uri.startswith(("http://", "https://"))


def _headers() -> dict[str, str]:
    user = os.environ.get("MLFLOW_TRACKING_USERNAME")
    password = os.environ.get("MLFLOW_TRACKING_PASSWORD")
    token = os.environ.get("MLFLOW_TRACKING_TOKEN")
    if user and password:
        basic = base64.b64encode(f"{user}:{password}".encode()).decode()
        return {"Authorization": f"Basic {basic}"}
    if token:
        return {"Authorization": f"Bearer {token}"}
    return {}


def _tls() -> ssl.SSLContext | None:
    if os.environ.get("MLFLOW_TRACKING_INSECURE_TLS", "").lower() == "true":
        return ssl._create_unverified_context()  # the user asked MLflow for exactly this
    cert = os.environ.get("MLFLOW_TRACKING_SERVER_CERT_PATH")
    return ssl.create_default_context(cafile=cert) if cert else None


def _open(url: str, data: bytes | None = None, method: str = "GET") -> HTTPResponse:
    headers = {**_headers(), "Content-Type": "application/json"}
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        answer = urllib.request.urlopen(request, timeout=TIMEOUT, context=_tls())
        return cast("HTTPResponse", answer)  # an http(s) URL: typeshed types urlopen as Any
    except urllib.error.HTTPError as exc:
        raise RestError(f"{method} {url}: HTTP {exc.code}") from None
    except (OSError, ValueError) as exc:
        raise RestError(f"{method} {url}: {exc}") from None


def call(base: str, endpoint: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
    """GET (no payload) or POST an ``/api/2.0/mlflow/...`` endpoint; its JSON answer."""
    url = f"{base.rstrip('/')}/api/2.0/mlflow/{endpoint}"
    data = json.dumps(payload).encode() if payload is not None else None
    with _open(url, data, "POST" if data is not None else "GET") as answer:
        found: dict[str, Any] = json.loads(answer.read() or b"{}")
        return found


def experiment_id(base: str, name: str) -> str | None:
    query = urllib.parse.urlencode({"experiment_name": name})
    try:
        return str(call(base, f"experiments/get-by-name?{query}")["experiment"]["experiment_id"])
    except RestError as exc:
        if "HTTP 404" in str(exc):
            return None
        raise


def search_runs(
    base: str, experiment: str, filter_string: str, order_by: list[str], max_results: int
) -> list[dict[str, Any]]:
    """Runs as the REST API gives them (``info``, ``data``)."""
    answer = call(
        base,
        "runs/search",
        {
            "experiment_ids": [experiment],
            "filter": filter_string,
            "order_by": order_by,
            "max_results": max_results,
        },
    )
    return list(answer.get("runs", []))


def download(base: str, artifact_uri: str, path: str, target: Path) -> Path:
    """Fetch ``<artifact_uri>/<path>`` of a proxied artifact store into ``target``."""
    if not artifact_uri.startswith(PROXIED):
        raise RestError(f"artifacts at {artifact_uri} are not proxied by the server")
    location = urllib.parse.urlparse(artifact_uri).path.lstrip("/")
    quoted = urllib.parse.quote(f"{location}/{path}")
    url = f"{base.rstrip('/')}/api/2.0/mlflow-artifacts/artifacts/{quoted}"
    target.parent.mkdir(parents=True, exist_ok=True)
    with _open(url) as answer, open(target, "wb") as out:
        shutil.copyfileobj(answer, out)
    return target
