"""Is there anything to monitor? A model is known when it is registered or has a prediction log.

Without this check ``monitor nope`` printed a full report of zeros for a model that never
existed; now it is one ``NotFound``. A model served from a log alone (not registered) still
gets its report.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import NotFound
from .predlog_format import predictions_dir

if TYPE_CHECKING:
    from ..store.gateway import Gateway


def require_known_model(gw: Gateway, model: str) -> None:
    """Raise NotFound unless ``model`` is a registered model or has logged predictions."""
    folder = predictions_dir(gw.ws, model)
    if folder.is_dir() and any(folder.iterdir()):
        return
    try:
        gw.registered_model(model)
    except NotFound:
        raise NotFound(
            f"no registered model {model!r}, and no predictions logged for it",
            hint="register one with `jupyter-mlops register RUN --name NAME`",
        ) from None
