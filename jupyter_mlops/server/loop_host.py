"""The loop hosted by the Jupyter server, for a single user who runs no ``loop serve``.

Off unless asked: ``jupyter lab --MlopsLoop.serve=True`` (or ``c.MlopsLoop.serve = True`` in a
Jupyter config file). The loop then runs in a daemon thread of the server process, exactly as
``jupyter-mlops loop serve`` would (same leadership lease, so a ``loop serve`` elsewhere and
this one never both run a cycle), and gives its lease back when the server exits.
"""

from __future__ import annotations

import atexit
import logging
import threading
from typing import Any

from traitlets import Bool, Float
from traitlets.config import Configurable

from ..loop.service import LoopService
from ..store.gateway import gateway_for
from ..workspace import Workspace

log = logging.getLogger("jupyter_mlops")
_hosted: LoopService | None = None
_thread: threading.Thread | None = None


class MlopsLoop(Configurable):
    """Settings of the release loop the jupyter-mlops server extension can host."""

    serve = Bool(
        False,
        config=True,
        help="Run the workspace's release loop (loop: in mlops.yaml) inside this Jupyter server, "
        "as `jupyter-mlops loop serve` would.",
    )
    poll = Float(
        0.0,
        config=True,
        help="Seconds between the loop's rounds (0: loop.poll in mlops.yaml).",
    )


def hosted_loop() -> LoopService | None:
    """The loop this server runs, if it runs one."""
    return _hosted


def start_hosted_loop(server_app: Any, ws: Workspace) -> LoopService | None:
    """Start the loop in a thread when ``MlopsLoop.serve`` is set; None otherwise."""
    global _hosted, _thread
    settings = MlopsLoop(config=server_app.config)
    if not settings.serve or _hosted is not None:
        return _hosted
    service = LoopService(
        gateway_for(ws), say=lambda text: log.info("jupyter-mlops loop: %s", text),
        poll=settings.poll or None,
    )  # fmt: skip
    _thread = threading.Thread(target=service.serve, name="jupyter-mlops-loop", daemon=True)
    _thread.start()
    atexit.register(stop_hosted_loop)
    _hosted = service
    return service


def stop_hosted_loop(timeout: float = 30.0) -> None:
    """Stop the hosted loop (at the end of its round) and give its lease back."""
    global _hosted, _thread
    service, thread = _hosted, _thread
    _hosted = _thread = None
    if service is None:
        return
    service.stop()
    if thread is not None:
        thread.join(timeout)
    service.release()
