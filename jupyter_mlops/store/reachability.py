"""Is the tracking store usable at all? Answered in milliseconds, before any MLflow call.

MLflow's HTTP client retries a refused connection with backoff for minutes before it raises,
and an unknown URI scheme ends in a traceback from deep inside it. Reads (``runs``, ``show``,
``sync``...) ask here first, so an unreachable server is one line within seconds:
``cannot reach the tracking server at URL``. Writes never ask: kernels only append to their
journal, which is replayed when the server answers again.
"""

from __future__ import annotations

import socket
import threading
import time
from urllib.parse import SplitResult, urlsplit

from ..errors import InvalidInput, StoreUnavailable
from ..workspace import Workspace

PROBE_TIMEOUT_S = 3.0
TRUST_FOR_S = 30.0  # a server that answered is not asked again for this long
SCHEMES = ("sqlite", "http", "https", "postgresql", "mysql", "mssql", "file", "databricks")

_answered: dict[str, float] = {}
_guard = threading.Lock()


def check_tracking_uri(uri: str) -> str:
    """``uri`` if MLflow has a store for its scheme; else one line naming the supported ones."""
    scheme = urlsplit(uri).scheme.split("+", 1)[0].lower()
    if scheme not in SCHEMES:
        raise InvalidInput(
            f"unsupported tracking URI {uri!r}",
            hint="use sqlite:///PATH, http(s)://HOST[:PORT], postgresql://..., mysql://..., "
            "mssql://..., file:PATH or databricks",
        )
    return uri


def ensure_reachable(ws: Workspace, timeout: float = PROBE_TIMEOUT_S) -> None:
    """Raise StoreUnavailable, naming the URL, when an HTTP tracking server does not answer."""
    uri = check_tracking_uri(ws.tracking_uri)
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https"):
        return
    with _guard:
        if time.monotonic() - _answered.get(uri, -TRUST_FOR_S) < TRUST_FOR_S:
            return
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname or "localhost", port), timeout=timeout):
            pass
    except OSError as exc:
        reason = "timed out" if isinstance(exc, TimeoutError) else exc.strerror or str(exc)
        raise StoreUnavailable(
            f"cannot reach the tracking server at {_shown(parts)} ({reason})",
            hint="check MLFLOW_TRACKING_URI / tracking_uri; tracked cells keep queuing locally",
        ) from None
    with _guard:
        _answered[uri] = time.monotonic()


def _shown(parts: SplitResult) -> str:
    """The URL without credentials."""
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"
