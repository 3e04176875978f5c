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
from ..workspace import Workspace
from .app import create_app
from .router import PackagedRouter
from .server import run_app, serve

DEFAULT_PACKAGE = "/opt/model"


def _manifest(package: Path) -> dict[str, Any]:
    try:
        return cast("dict[str, Any]", json.loads((package / "lineage.json").read_text()))
    except (OSError, ValueError):
        return {}


def main() -> int:
    env = os.environ
    package = Path(env.get("MLOPS_PACKAGE", DEFAULT_PACKAGE))
    manifest = _manifest(package)
    model = env.get("MLOPS_MODEL") or manifest.get("model")
    host, port = env.get("HOST", "0.0.0.0"), int(env.get("PORT", "8080"))
    if not model:
        print(
            f"error: set MLOPS_MODEL, or MLOPS_PACKAGE to a package folder ({package} has no lineage.json)",
            file=sys.stderr,
        )
        return 2
    ws = Workspace.find()
    try:
        if env.get("MLFLOW_TRACKING_URI"):
            guard = {"true": True, "false": False}.get(env.get("MLOPS_GUARD", "").lower())
            print(
                f"serving {model} from {env['MLFLOW_TRACKING_URI']} on {host}:{port} (following aliases)"
            )
            serve(
                ws,
                model,
                host=host,
                port=port,
                poll_interval=float(env.get("MLOPS_POLL", "0.25")),
                guard=guard,
            )
        else:
            version = str(manifest.get("version") or "1")
            router = PackagedRouter(ws, model, str(package / "model"), version)
            print(f"serving {model} v{version} from {package} on {host}:{port}")
            run_app(create_app(ws, model, router=router, guard=False), host, port)
    except MlopsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
