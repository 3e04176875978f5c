"""Logged models: saved to a staging folder on the cell's path, uploaded by the replayer.

MLflow's ``log_model`` spends seconds inferring pip requirements in a subprocess; here they are
pinned from the environment snapshot instead, so a LogisticRegression is logged in tens of
milliseconds. Models are serialised with cloudpickle (skops refuses e.g. RandomForest without
trusted types); they are only ever loaded back from the workspace's own store.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..tags import MODEL_CLASS_TAG, MODEL_KEY_TAG, model_tag
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
) -> dict[str, Any]:
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


def stage_estimator(estimator: Any, folder: Path, example: Any | None) -> Path:
    """Pickle ``estimator`` and its input example for the replayer: no MLflow on the cell's path.

    cloudpickle stores classes defined in a notebook by value, so the sync agent (another
    process) can load them. The MLmodel folder is built later from this file (``build_model``).
    """
    import cloudpickle

    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "estimator.pkl"
    tmp = folder / ".estimator.pkl.tmp"
    with open(tmp, "wb") as fh:
        cloudpickle.dump({"estimator": estimator, "example": example}, fh)
    tmp.replace(target)
    return target


def build_model(pickled: Path, target: Path, requirements: list[str]) -> None:
    """Build the MLflow model folder ``target`` from a staged pickle, once (safe to repeat).

    Built aside and renamed into place, so a process killed half-way leaves no half-made folder.
    """

    import cloudpickle

    if (target / "MLmodel").exists():
        return
    with open(pickled, "rb") as fh:
        staged = cloudpickle.load(fh)
    side = target.with_name(f".{target.name}-build")
    shutil.rmtree(side, ignore_errors=True)
    meta = save_sklearn_model(staged["estimator"], side, staged["example"], requirements)
    (target.parent / "model.json").write_text(json.dumps(meta))
    shutil.rmtree(target, ignore_errors=True)
    side.replace(target)


def upload_staged_model(
    client: Any,
    *,
    experiment_id: str,
    run_id: str,
    staged: Path,
    name: str,
    model_key: str,
    done: dict[str, str | None],
    record: Callable[[str, str | None], None],
    retry: bool,
) -> str:
    """Create the logged model, link it to its run, upload its files, mark it READY.

    Each step is one MLflow call (each file is one), idempotent and recorded through ``record``
    once MLflow confirmed it; ``done`` holds the steps an earlier attempt finished, so a retry
    resumes after them. A step whose answer was lost is checked on the server before it is sent
    again: the model is looked up by its ``mlops.model_key`` tag before creating another, and the
    run's outputs before linking.
    """
    from mlflow.entities import LoggedModelOutput, LoggedModelStatus

    created: dict[str, str] | None = json.loads(text) if (text := done.get("created")) else None
    if created is None:
        model = _find_model(client, experiment_id, model_key) if retry else None
        if model is None:
            model = client.create_logged_model(
                experiment_id=experiment_id,
                name=name,
                source_run_id=run_id,
                tags={MODEL_KEY_TAG: model_key},
                model_type="sklearn",
            )
        created = {"model_id": model.model_id, "location": model.artifact_location}
        record("created", json.dumps(created))
    model_id = created["model_id"]
    if "linked" not in done:
        if not _is_linked(client, run_id, model_id):
            client.log_outputs(run_id, [LoggedModelOutput(model_id, step=0)])
        record("linked", None)
    if "uploaded" not in done:
        _point_mlmodel_at(staged / "MLmodel", run_id, model_id, created["location"])
        _upload_files(client, model_id, staged, done, record)
        record("uploaded", None)
    if "finalized" not in done:
        client.finalize_logged_model(model_id, LoggedModelStatus.READY)
        record("finalized", None)
    if "tagged" not in done:
        client.set_tag(run_id, model_tag(name), f"models:/{model_id}")
        record("tagged", None)
    info = staged.parent / "model.json"
    if "classed" not in done and info.exists():
        meta = json.loads(info.read_text())
        client.set_logged_model_tags(model_id, {MODEL_CLASS_TAG: meta.get("class", "")})
        record("classed", None)
    return model_id


def _upload_files(
    client: Any,
    model_id: str,
    staged: Path,
    done: dict[str, str | None],
    record: Callable[[str, str | None], None],
) -> None:
    """A model's files, one upload a step (an upload overwrites: safe to repeat). MLmodel goes
    last: a folder with its MLmodel is a whole model."""
    files = sorted(p for p in staged.rglob("*") if p.is_file())
    files.sort(key=lambda p: p == staged / "MLmodel")
    for file in files:
        rel = file.relative_to(staged)
        step = f"file:{rel.as_posix()}"
        if step in done:
            continue
        folder = rel.parent.as_posix()
        client.log_model_artifact(model_id, str(file), None if folder == "." else folder)
        record(step, None)


def _find_model(client: Any, experiment_id: str, model_key: str) -> Any | None:
    found = client.search_logged_models(
        experiment_ids=[experiment_id],
        filter_string=f"tags.`{MODEL_KEY_TAG}` = '{model_key}'",
    )
    return found[0] if found else None


def _is_linked(client: Any, run_id: str, model_id: str) -> bool:
    outputs = client.get_run(run_id).outputs
    return any(o.model_id == model_id for o in (outputs.model_outputs if outputs else ()))


def _point_mlmodel_at(path: Path, run_id: str, model_id: str, location: str) -> None:
    from mlflow.models import Model

    mlmodel = Model.load(str(path))
    mlmodel.run_id = run_id
    mlmodel.model_id = model_id
    mlmodel.artifact_path = location
    mlmodel.save(str(path))
