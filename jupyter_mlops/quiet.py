"""MLflow's chatter that reached users in cells, papermill runs and builds, moved to the debug log.

- "Creating initial MLflow database tables..." and alembic's migration lines, printed in the first
  tracked cell's output and by papermill: re-logged at DEBUG on ``jupyter_mlops.mlflow``;
- "View run ... at" / "View experiment at", written to stdout when a run against a server ends,
  and "Downloading artifacts" progress bars: switched off through MLflow's own variables
  (``MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT``, ``MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR``) unless
  the user set them, which the debug log says once.

``logging.getLogger("jupyter_mlops").setLevel(logging.DEBUG)`` (plus a handler) shows it all.
"""

from __future__ import annotations

import logging
import os
import threading

DEBUG_LOG = logging.getLogger("jupyter_mlops.mlflow")

# logger -> the start of each INFO message that goes to the debug log instead
DEMOTED: dict[str, tuple[str, ...]] = {
    "mlflow.store.db.utils": (
        "Creating initial MLflow database tables",
        "Updating database tables",
    ),
    "alembic.runtime.migration": ("Context impl ", "Will assume ", "Running upgrade "),
}
# MLflow's switches for output that is not logging: the value that silences each, and what
SILENCING_ENV = {
    "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT": ("true", "'View run ... at' links"),
    "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": ("false", "'Downloading artifacts' progress bars"),
}

_done = False
_guard = threading.Lock()


class DemoteToDebug(logging.Filter):
    """Drops a logger's routine INFO records after re-logging them at DEBUG on ``DEBUG_LOG``."""

    def __init__(self, prefixes: tuple[str, ...]) -> None:
        super().__init__()
        self.prefixes = prefixes

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.INFO:
            return True
        message = record.getMessage()
        if not message.startswith(self.prefixes):
            return True
        DEBUG_LOG.debug("%s: %s", record.name, message)
        return False


def quiet_mlflow() -> None:
    """Install the filters and defaults above, once per process, before MLflow is used."""
    global _done
    with _guard:
        if _done:
            return
        _done = True
        for name, prefixes in DEMOTED.items():
            logging.getLogger(name).addFilter(DemoteToDebug(prefixes))
        for variable, (value, what) in SILENCING_ENV.items():
            if variable in os.environ:
                DEBUG_LOG.debug("MLflow's %s: %s as set by the user", what, variable)
            else:
                os.environ[variable] = value
                DEBUG_LOG.debug("MLflow's %s are off: %s=%s unless set", what, variable, value)
