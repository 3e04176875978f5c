"""How pipeline, step and trial runs reach MLflow: the one module to change to route them elsewhere.

Runs are created synchronously through the workspace's explicit ``MlflowClient`` because the
build needs each run id before the kernel starts (it becomes the kernel's MLOPS_PARENT_RUN_ID, so
the notebook's own tracked cells land under it).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from ..workspace import Workspace

MAX_PARAM = 6000
MAX_TAG = 8000


def _client(ws: Workspace):
    from ..store.client import client_for

    return client_for(ws)


def _param_value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return text[:MAX_PARAM]


def start_run(
    ws: Workspace,
    *,
    name: str,
    kind: str,
    experiment: str | None = None,
    parent_run_id: str | None = None,
    tags: dict[str, Any] | None = None,
    params: dict[str, Any] | None = None,
) -> str:
    from ..store.client import experiment_id

    all_tags = {"mlops.kind": kind, **{k: str(v)[:MAX_TAG] for k, v in (tags or {}).items()}}
    if parent_run_id:
        all_tags["mlflow.parentRunId"] = parent_run_id
    user = os.environ.get("USER") or os.environ.get("LOGNAME")
    if user:
        all_tags.setdefault("mlflow.user", user)
    client = _client(ws)
    run = client.create_run(experiment_id(ws, experiment), run_name=name, tags=all_tags)
    run_id = run.info.run_id
    if params:
        log_params(ws, run_id, params)
    return run_id


def log_params(ws: Workspace, run_id: str, params: dict[str, Any]) -> None:
    from mlflow.entities import Param

    items = [Param(str(k)[:250], _param_value(v)) for k, v in params.items()]
    for i in range(0, len(items), 100):
        _client(ws).log_batch(run_id, params=items[i : i + 100])


def log_metrics(ws: Workspace, run_id: str, metrics: dict[str, float], step: int = 0) -> None:
    from mlflow.entities import Metric

    now = int(time.time() * 1000)
    items = [Metric(str(k)[:250], float(v), now, step) for k, v in metrics.items()]
    for i in range(0, len(items), 500):
        _client(ws).log_batch(run_id, metrics=items[i : i + 500])


def log_history(ws: Workspace, run_id: str, history: list[dict[str, Any]]) -> None:
    """Stepped metric values as the notebook reported them (curves)."""
    from mlflow.entities import Metric

    items = [
        Metric(str(h["key"])[:250], float(h["value"]), int(h.get("ts", 0)), int(h.get("step") or 0))
        for h in history
    ]
    for i in range(0, len(items), 500):
        _client(ws).log_batch(run_id, metrics=items[i : i + 500])


def set_tags(ws: Workspace, run_id: str, tags: dict[str, Any]) -> None:
    from mlflow.entities import RunTag

    items = [RunTag(k, str(v)[:MAX_TAG]) for k, v in tags.items()]
    if items:
        _client(ws).log_batch(run_id, tags=items)


def log_artifact(ws: Workspace, run_id: str, path: Path, artifact_path: str | None = None) -> None:
    _client(ws).log_artifact(run_id, str(path), artifact_path)


def log_text(ws: Workspace, run_id: str, text: str, artifact_file: str) -> None:
    _client(ws).log_text(run_id, text, artifact_file)


def end_run(ws: Workspace, run_id: str, status: str) -> None:
    _client(ws).set_terminated(run_id, status=status)


def child_metrics(ws: Workspace, run_id: str) -> dict[str, float]:
    """Latest metrics of the runs whose parent is ``run_id`` (the notebook's tracked cells)."""
    client = _client(ws)
    run = client.get_run(run_id)
    children = client.search_runs(
        [run.info.experiment_id],
        filter_string=f"tags.`mlflow.parentRunId` = '{run_id}'",
        order_by=["attributes.start_time ASC"],
        max_results=1000,
    )
    metrics: dict[str, float] = {}
    for child in children:
        metrics.update(child.data.metrics)
    return metrics
