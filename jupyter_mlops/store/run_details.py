"""A run in full (params, metric curves, models, environment, code) and its small artifacts.

Shared by ``%mlops show``, the CLI and the REST API, so each only renders.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from ..tags import MODEL_PREFIX
from .embedded_read import local_artifact_text
from .embedded_read import run_detail as embedded_run_detail
from .runs import get_run, run_summary

if TYPE_CHECKING:
    from .gateway import Gateway


def read_json_artifact(gw: Gateway, run_id: str, path: str) -> Any | None:
    """A small JSON artifact of a run, or None when the run has none."""
    text = read_text_artifact(gw, run_id, path)
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def read_text_artifact(gw: Gateway, run_id: str, path: str) -> str | None:
    """A run's text artifact; read in place for local stores (no download, no progress bar)."""
    root = gw.client.get_run(run_id).info.artifact_uri.rstrip("/")
    if urlparse(root).scheme in ("", "file"):
        return local_artifact_text(root, path)
    import mlflow.artifacts
    from mlflow.exceptions import MlflowException

    try:
        return mlflow.artifacts.load_text(f"{root}/{path}")
    except (MlflowException, OSError):
        return None


def run_detail(gw: Gateway, ref: str, *, with_history: bool = True) -> dict[str, Any]:
    gw.before_read()
    db = gw.embedded_db()
    if db is not None:
        fast = embedded_run_detail(db, ref, with_history=with_history)  # no MLflow import
        if fast is not None:
            return fast
    return run_detail_from_mlflow(gw, ref, with_history=with_history)


def run_detail_from_mlflow(gw: Gateway, ref: str, *, with_history: bool = True) -> dict[str, Any]:
    """``run_detail`` through MLflow's client (any store)."""
    run = get_run(gw, ref)
    client = gw.client
    detail = run_summary(run)
    curves = {}
    if with_history:
        for key in run.data.metrics:
            history = client.get_metric_history(run.info.run_id, key)
            if len(history) > 1:
                curves[key] = [
                    (m.step, m.value) for m in sorted(history, key=lambda m: (m.step, m.timestamp))
                ]
    detail["curves"] = curves
    detail["models"] = [
        {
            "model_id": o.model_id,
            "uri": f"models:/{o.model_id}",
            "name": k.removeprefix(MODEL_PREFIX),
        }
        for o in (run.outputs.model_outputs if run.outputs else [])
        for k, v in run.data.tags.items()
        if k.startswith(MODEL_PREFIX) and v == f"models:/{o.model_id}"
    ]
    detail["datasets"] = [
        {
            "name": d.dataset.name,
            "digest": d.dataset.digest,
            "context": next((t.value for t in d.tags if t.key == "mlflow.data.context"), None),
        }
        for d in (run.inputs.dataset_inputs if run.inputs else [])
    ]
    detail["environment"] = read_json_artifact(gw, run.info.run_id, "mlops/environment.json")
    detail["cell_source"] = read_text_artifact(gw, run.info.run_id, "mlops/cell.py")
    return detail


def recorded_code(gw: Gateway, run_id: str) -> dict[str, Any]:
    """The code a run recorded, by origin (each None when absent): ``notebook`` (the saved
    notebook's code cells), ``history`` (the cells the kernel executed, in order) and ``cell``
    (a tracked cell's own source). Callers choose which origin serves them best."""
    nb = read_json_artifact(gw, run_id, "mlops/notebook.json")
    hist = read_json_artifact(gw, run_id, "mlops/history.json")
    notebook = (
        [str(c.get("source", "")) for c in nb["cells"] if isinstance(c, dict)]
        if isinstance(nb, dict) and isinstance(nb.get("cells"), list)
        else None
    )
    history = (
        [str(h.get("source", "")) for h in hist if isinstance(h, dict)] or None
        if isinstance(hist, list)
        else None
    )
    return {
        "notebook": notebook,
        "history": history,
        "cell": read_text_artifact(gw, run_id, "mlops/cell.py"),
    }
