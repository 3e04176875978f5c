"""Is there anything to monitor? A model is known when it is registered or has a prediction log.

Without this check ``monitor nope`` printed a full report of zeros for a model that never
existed; now it is one ``NotFound``. A model served from a log alone (not registered) still
gets its report.
"""

from __future__ import annotations

from ..errors import NotFound
from ..store.client import client_for
from ..workspace import Workspace
from .predlog_format import predictions_dir


def require_known_model(ws: Workspace, model: str) -> None:
    """Raise NotFound unless ``model`` is a registered model or has logged predictions."""
    folder = predictions_dir(ws, model)
    if folder.is_dir() and any(folder.iterdir()):
        return
    from mlflow.exceptions import MlflowException

    try:
        client_for(ws).get_registered_model(model)
    except MlflowException:
        raise NotFound(
            f"no registered model {model!r}, and no predictions logged for it",
            hint="register one with `jupyter-mlops register RUN --name NAME`",
        ) from None
