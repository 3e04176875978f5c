"""Logged models: saved to a staging folder on the cell's path, uploaded by the replayer.

MLflow's ``log_model`` spends seconds inferring pip requirements in a subprocess; here they are
pinned from the environment snapshot instead, so a LogisticRegression is logged in tens of
milliseconds. Models are serialised with cloudpickle (skops refuses e.g. RandomForest without
trusted types); they are only ever loaded back from the workspace's own store.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from .model_signature import signature_for

# distributions a scikit-learn model needs at load time, pinned from the environment snapshot
SKLEARN_RUNTIME = ("mlflow", "scikit-learn", "cloudpickle", "numpy", "pandas", "scipy")


def pinned_requirements(
    distributions: dict[str, str], names: tuple[str, ...] = SKLEARN_RUNTIME
) -> list[str]:
    pins = []
    for name in names:
        version = distributions.get(name) or distributions.get(name.replace("-", "_"))
        if name == "mlflow" and not version:
            version = distributions.get("mlflow-skinny")
        if version:
            pins.append(f"{name}=={version}")
    return pins


def _quiet_pickle_warning(record: logging.LogRecord) -> bool:
    # cloudpickle is chosen on purpose (see module docstring); loading is restricted instead
    return "pickle or cloudpickle" not in record.getMessage()


def save_sklearn_model(
    estimator: Any, path: Path, example: Any | None, requirements: list[str]
) -> dict:
    """Save ``estimator`` as an MLflow sklearn model in ``path``; returns a short description."""
    import mlflow.sklearn

    sk_log = logging.getLogger("mlflow.sklearn")
    if _quiet_pickle_warning not in sk_log.filters:
        sk_log.addFilter(_quiet_pickle_warning)
    signature = signature_for(estimator, example) if example is not None else None
    mlflow.sklearn.save_model(
        estimator,
        path=str(path),
        serialization_format="cloudpickle",
        pip_requirements=requirements,
        signature=signature,
        input_example=example,
    )
    return {
        "class": f"{type(estimator).__module__}.{type(estimator).__qualname__}",
        "has_signature": signature is not None,
    }


def upload_staged_model(
    client: Any,
    *,
    experiment_id: str,
    run_id: str,
    staged: Path,
    name: str,
    model_key: str,
    retry: bool,
) -> str:
    """Create the logged model, link it to its run, upload its files, mark it READY."""
    from mlflow.entities import LoggedModelOutput, LoggedModelStatus
    from mlflow.models import Model

    model = None
    if retry:
        found = client.search_logged_models(
            experiment_ids=[experiment_id],
            filter_string=f"tags.`mlops.model_key` = '{model_key}'",
        )
        model = found[0] if found else None
    if model is None:
        model = client.create_logged_model(
            experiment_id=experiment_id,
            name=name,
            source_run_id=run_id,
            tags={"mlops.model_key": model_key},
            model_type="sklearn",
        )
    client.log_outputs(run_id, [LoggedModelOutput(model.model_id, step=0)])
    mlmodel_path = staged / "MLmodel"
    mlmodel = Model.load(str(mlmodel_path))
    mlmodel.run_id = run_id
    mlmodel.model_id = model.model_id
    mlmodel.artifact_path = model.artifact_location
    mlmodel.save(str(mlmodel_path))
    client.log_model_artifacts(model.model_id, str(staged))
    client.finalize_logged_model(model.model_id, LoggedModelStatus.READY)
    client.set_tag(run_id, f"mlops.model.{name}", f"models:/{model.model_id}")
    info = staged.parent / "model.json"
    if info.exists():
        meta = json.loads(info.read_text())
        client.set_logged_model_tags(model.model_id, {"mlops.class": meta.get("class", "")})
    return model.model_id
