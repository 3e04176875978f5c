"""jupyter-mlops: MLOps that lives in Jupyter, with MLflow as the system of record.

Importing this package is cheap: MLflow, pandas and scikit-learn load on first use, so that
``%load_ext jupyter_mlops`` and server start stay fast.
"""

from __future__ import annotations

import importlib
from typing import Any

from ._version import __version__

# public name -> module that defines it (imported on first access)
_LAZY = {
    "track": "jupyter_mlops.capture.tracker",
    "log_params": "jupyter_mlops.capture.tracker",
    "log_metrics": "jupyter_mlops.capture.tracker",
    "log_model": "jupyter_mlops.capture.tracker",
    "active_run": "jupyter_mlops.capture.tracker",
    "Workspace": "jupyter_mlops.workspace",
    "MlopsError": "jupyter_mlops.errors",
    "fingerprint": "jupyter_mlops.datasets.fingerprint",
    "load_dataset": "jupyter_mlops.datasets.api",
    "log_dataset": "jupyter_mlops.datasets.api",
    "build": "jupyter_mlops.pipeline.build",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'jupyter_mlops' has no attribute {name!r}")

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext jupyter_mlops``: registers ``%mlops`` / ``%%mlops`` and the cell hooks."""
    from .notebook.magics import register  # noqa: PLC0415 -- the package root stays light; the magics load with %load_ext

    register(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    from .notebook.magics import unregister  # noqa: PLC0415 -- the package root stays light; the magics load with %load_ext

    unregister(ipython)


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "jupyter-mlops"}]


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "jupyter_mlops"}]


def _load_jupyter_server_extension(server_app: Any) -> None:
    from .server import setup_handlers  # noqa: PLC0415 -- the package root stays light; the server extension loads with the server

    setup_handlers(server_app)
    server_app.log.info("jupyter_mlops server extension loaded")
