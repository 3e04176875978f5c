"""Run the serving app with uvicorn: in the foreground (CLI) or in a thread (tests, notebooks)."""

from __future__ import annotations

import importlib.util
import socket
import threading
import time
from typing import Any, cast

from ..errors import InvalidInput, StoreUnavailable
from ..release.registration import get_registered_model
from ..store.gateway import Gateway
from .app import create_app


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return cast("int", s.getsockname()[1])  # typeshed: socket addresses are Any


def _config(app: Any, host: str, port: int, *, own_process: bool = False) -> Any:
    """uvloop only when the server owns its process: it may install a global loop policy."""
    import uvicorn

    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="on",
        http="httptools" if _has("httptools") else "h11",
        loop="uvloop" if own_process and _has("uvloop") else "asyncio",
    )


def _has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def serve(
    gw: Gateway, model: str, *, host: str = "127.0.0.1", port: int = 5001, **app_options: Any
) -> None:
    """Serve ``model`` until interrupted."""
    import uvicorn

    if not 0 < port < 65536:
        raise InvalidInput(f"port must be 1-65535, got {port}")
    get_registered_model(gw, model)  # a clear NotFound before the server starts
    uvicorn.Server(
        _config(create_app(gw, model, **app_options), host, port, own_process=True)
    ).run()


def run_app(app: Any, host: str, port: int) -> None:
    """Serve a ready app in the foreground, owning the process (SIGTERM stops it gracefully)."""
    import uvicorn

    if not 0 < port < 65536:
        raise InvalidInput(f"port must be 1-65535, got {port}")
    uvicorn.Server(_config(app, host, port, own_process=True)).run()


class BackgroundServer:
    """The serving app on 127.0.0.1 in a daemon thread; ``with BackgroundServer(...) as s: s.url``."""

    def __init__(
        self,
        gw: Gateway,
        model: str,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        app: Any = None,
        **app_options: Any,
    ) -> None:
        import uvicorn

        self.host, self.port = host, port or free_port(host)
        # another ASGI app of the package (the prediction-log collector) runs the same way
        self.app = app if app is not None else create_app(gw, model, **app_options)
        self.server = uvicorn.Server(_config(self.app, self.host, self.port))
        self.thread = threading.Thread(target=self.server.run, name=f"serve-{model}", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def router(self) -> Any:
        return self.app.state.router

    def start(self, timeout: float = 30.0) -> BackgroundServer:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise StoreUnavailable(f"the model server did not start on {self.url}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
