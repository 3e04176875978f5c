"""An MlflowClient wrapper that fails calls on demand, the way a network and a busy database do.

Faults are taken from ``by_method`` (the next call of that method) or else a queue, one per call: ``before`` (the request never reached the server),
``locked`` (SQLite "database is locked"), ``after`` (the server did the work, the answer was lost).
"""

from __future__ import annotations

from collections import deque
from typing import Any

FAULTS = ("ok", "before", "locked", "after")


def _down(what: str) -> Exception:
    from mlflow.exceptions import MlflowException

    return MlflowException(
        f"API request to http://127.0.0.1/api/2.0/mlflow/{what} failed with exception "
        "ConnectionError('Connection aborted.')"
    )


def _locked() -> Exception:
    from mlflow.exceptions import MlflowException
    from mlflow.protos.databricks_pb2 import TEMPORARILY_UNAVAILABLE

    return MlflowException(
        "(sqlite3.OperationalError) database is locked", error_code=TEMPORARILY_UNAVAILABLE
    )


class FlakyClient:
    def __init__(self, client: Any) -> None:
        self._client = client
        self.plan: deque[str] = deque()
        self.by_method: dict[str, str] = {}  # a fault for the next call of one method
        self.calls: list[tuple[str, str]] = []

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._client, name)
        if not callable(target):
            return target

        def call(*args: Any, **kwargs: Any) -> Any:
            fault = self.by_method.pop(name, None) or (self.plan.popleft() if self.plan else "ok")
            self.calls.append((name, fault))
            if fault == "before":
                raise _down(name)
            if fault == "locked":
                raise _locked()
            result = target(*args, **kwargs)
            if fault == "after":
                raise _down(name)
            return result

        return call


# every MLflow call the replayer makes while sending records (reads included)
REPLAY_METHODS = (
    "get_experiment_by_name",
    "create_experiment",
    "search_runs",
    "create_run",
    "log_batch",
    "get_metric_history",
    "log_artifact",
    "create_logged_model",
    "search_logged_models",
    "get_run",
    "log_outputs",
    "log_model_artifact",
    "finalize_logged_model",
    "set_tag",
    "set_logged_model_tags",
    "set_terminated",
)
