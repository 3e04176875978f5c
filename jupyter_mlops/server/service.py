"""What the REST handlers share: the workspace served and a thread pool for blocking work.

MLflow calls block (SQLite, HTTP to a tracking server); running them on Tornado's event loop would
freeze every notebook of the server while a query runs, so each goes to this pool.
"""

from __future__ import annotations

import asyncio
import functools
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from ..workspace import Workspace

T = TypeVar("T")

MAX_WORKERS = 4


class MlopsService:
    """The workspace at the server's root folder, and the executor that queries it."""

    def __init__(self, root_dir: str | os.PathLike[str]) -> None:
        self.root_dir = os.fspath(root_dir)
        self.workspace = Workspace.find(self.root_dir)
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def _pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(
                    max_workers=MAX_WORKERS, thread_name_prefix="jupyter-mlops"
                )
            return self._executor

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn(*args, **kwargs)`` in the pool and await its result."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool(), functools.partial(fn, *args, **kwargs))

    def store_exists(self) -> bool:
        """False for an embedded store never created: reading must not create ``.mlops/``."""
        ws = self.workspace
        return not ws.is_embedded or (ws.state_dir / "mlflow.db").is_file()
