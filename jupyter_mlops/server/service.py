"""What the REST handlers share: the workspace served, a thread pool for blocking work, the jobs.

MLflow calls block (SQLite, HTTP to a tracking server); running them on Tornado's event loop would
freeze every notebook of the server while a query runs, so each goes to this pool. Long work
(builds, validations) goes to the job registry's own pool, so it never starves the reads.

A remote tracking server that is down would hold a pool thread for minutes (MLflow retries each
HTTP request with exponential backoff); the service probes it first, with a short timeout, and
answers ``StoreUnavailable`` (503) at once instead.
"""

from __future__ import annotations

import asyncio
import functools
import os
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from ..errors import MlopsError, StoreUnavailable
from ..store.gateway import Gateway, gateway_for
from ..workspace import Workspace
from .first_page import is_light, wait_for_warm_up
from .jobs import JobRegistry

T = TypeVar("T")

MAX_WORKERS = 4
PROBE_OK_FOR_S = 10.0


class MlopsService:
    """The workspace at the server's root folder, its gateway to MLflow (handed to every domain
    call), the executor that queries it, and its jobs."""

    def __init__(self, root_dir: str | os.PathLike[str]) -> None:
        self.root_dir = os.fspath(root_dir)
        self.workspace = Workspace.find(self.root_dir)
        self.gateway: Gateway = gateway_for(self.workspace)
        self.jobs = JobRegistry()
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._probed_ok: dict[str, float] = {}

    def _pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(
                    max_workers=MAX_WORKERS, thread_name_prefix="jupyter-mlops"
                )
            return self._executor

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn(*args, **kwargs)`` in the pool (after checking the store) and await it."""
        loop = asyncio.get_running_loop()
        call = functools.partial(self._guarded, fn, *args, **kwargs)
        return await loop.run_in_executor(self._pool(), call)

    def _guarded(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        if not is_light(fn):
            wait_for_warm_up()
        self.check_store()
        try:
            return fn(*args, **kwargs)
        except MlopsError:
            raise
        except Exception as exc:
            if is_connection_error(exc):
                self._probed_ok.pop(self.workspace.tracking_uri, None)
                raise StoreUnavailable(
                    f"the tracking server {self.workspace.tracking_uri} did not answer",
                    hint="check that it is running and reachable, then retry",
                ) from None
            raise

    def check_store(self) -> None:
        """For an http(s) tracking URI: is the server answering? (cached for a few seconds)."""
        uri = self.workspace.tracking_uri
        if not uri.startswith(("http://", "https://")):
            return
        if time.monotonic() - self._probed_ok.get(uri, -1e9) < PROBE_OK_FOR_S:
            return
        probe_store(uri, self.workspace.settings.store_probe_timeout)
        self._probed_ok[uri] = time.monotonic()

    def store_exists(self) -> bool:
        """False for an embedded store never created: reading must not create ``.mlops/``."""
        ws = self.workspace
        return not ws.is_embedded or (ws.state_dir / "mlflow.db").is_file()

    def shutdown(self) -> None:
        self.jobs.shutdown()
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)


def probe_store(uri: str, timeout: float) -> None:
    """Raise ``StoreUnavailable`` unless the tracking server answers HTTP within ``timeout``."""

    try:
        with urllib.request.urlopen(uri.rstrip("/") + "/health", timeout=timeout):
            return
    except urllib.error.HTTPError:
        return  # it answered (a proxy may not serve /health): reachable
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise StoreUnavailable(
            f"the tracking server {uri} cannot be reached ({reason})",
            hint="check that it is running and reachable (MLFLOW_TRACKING_URI), then retry",
        ) from None


def is_connection_error(exc: BaseException | None) -> bool:
    """A failure to reach the tracking server, however MLflow or requests wrapped it."""
    seen = 0
    while exc is not None and seen < 10:
        name = type(exc).__name__
        if name in ("ConnectionError", "MaxRetryError", "ConnectTimeout", "ReadTimeout"):
            return True
        text = str(exc)
        if "Max retries exceeded" in text or "Failed to establish a new connection" in text:
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False
