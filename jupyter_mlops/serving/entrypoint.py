"""The packaged image's entrypoint: the same router as ``jupyter-mlops serve``.

``python -m jupyter_mlops.serving.entrypoint``, configured by the environment:
- ``MLFLOW_TRACKING_URI`` set: a fleet replica. It follows the model's aliases on that server
  (champion, canary and its weight), ships its prediction log there, and may run the canary guard
  (``MLOPS_GUARD=true``); it starts without a champion of its own.
- unset: the packaged model folder (``MLOPS_PACKAGE``, default the image's ``/opt/model``) is the
  champion; the prediction log stays in the container.
``HOST`` and ``PORT`` (default 0.0.0.0:8080), ``MLOPS_MODEL`` (default: the package's model),
``MLOPS_POLL`` (registry poll interval, seconds) and ``MLOPS_REPLICA`` (name in shipped logs).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, cast

from ..errors import MlopsError
from ..settings import Settings
from ..store.gateway import gateway_for
from ..workspace import Workspace
from .app import create_app
from .router import PackagedRouter
from .server import run_app, serve


def _manifest(package: Path) -> dict[str, Any]:
    try:
        return cast("dict[str, Any]", json.loads((package / "lineage.json").read_text()))
    except (OSError, ValueError):
        return {}


def main() -> int:
    try:
        return _serve(Workspace.find())
    except MlopsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code


def _serve(ws: Workspace) -> int:
    settings = ws.settings
    package = settings.package
    manifest = _manifest(package)
    model = settings.model or manifest.get("model")
    host, port = os.environ.get("HOST", "0.0.0.0"), int(os.environ.get("PORT", "8080"))
    if not model:
        print(
            f"error: set {Settings.model.env}, or {Settings.package.env} to a package folder "
            f"({package} has no lineage.json)",
            file=sys.stderr,
        )
        return 2
    gw = gateway_for(ws)
    tracking = os.environ.get("MLFLOW_TRACKING_URI")
    if tracking:
        print(f"serving {model} from {tracking} on {host}:{port} (following aliases)")
        serve(gw, model, host=host, port=port, poll_interval=settings.poll, guard=settings.guard)
    else:
        version = str(manifest.get("version") or "1")
        router = PackagedRouter(gw, model, str(package / "model"), version)
        print(f"serving {model} v{version} from {package} on {host}:{port}")
        run_app(create_app(gw, model, router=router, guard=False), host, port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
