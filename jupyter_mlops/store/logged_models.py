"""Logged models: staged by the cell, built into MLmodel folders and uploaded by the replayer.

MLflow's ``log_model`` spends seconds inferring pip requirements in a subprocess; here they are
pinned from the environment snapshot instead, so a LogisticRegression is logged in tens of
milliseconds. The cell pickles the model (cloudpickle: classes defined in a notebook travel by
value) with its input example, its in-memory prediction on that example and its flavor's name;
the sync agent builds the folder with that flavor (``flavors.registry``: MLflow's own
``mlflow.sklearn``, ``mlflow.xgboost``...), a signature from the example as JSON would deliver it,
an input restorer where JSON loses something (categories, integer labels, documents), and a
check that the model predicts through pyfunc what it predicted in memory.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..flavors.model_inputs import category_columns, install_restorer, plain_inputs
from ..flavors.registry import model_flavors
from ..tags import (
    EXAMPLE_SOURCE_TAG,
    FLAVOR_TAG,
    MODEL_CLASS_TAG,
    MODEL_KEY_TAG,
    PYFUNC_CHECK_TAG,
    model_tag,
    pyfunc_check_tag,
)
from .model_signature import pyfunc_check, signature_for

# distributions a scikit-learn model needs at load time, pinned from the environment snapshot
SKLEARN_RUNTIME = ("mlflow", "scikit-learn", "cloudpickle", "numpy", "pandas", "scipy")
# MLflow takes at most this many params in one call
PARAMS_PER_CALL = 100


def pinned_requirements(
    distributions: dict[str, str], names: tuple[str, ...] = SKLEARN_RUNTIME
) -> list[str]:
    pins = []
    for name in dict.fromkeys(names):
        version = distributions.get(name) or distributions.get(name.replace("-", "_"))
        if name == "mlflow" and not version:
            version = distributions.get("mlflow-skinny")
        if name == "xgboost" and not version:
            version = distributions.get("xgboost-cpu")
            name = "xgboost-cpu" if version else name
        if version:
            pins.append(f"{name}=={version}")
    return pins


def save_sklearn_model(
    estimator: Any, path: Path, example: Any | None, requirements: list[str]
) -> dict[str, Any]:
    """Save a scikit-learn ``estimator`` as an MLflow model in ``path`` (no pyfunc check)."""
    staged = {"estimator": estimator, "example": example, "flavor": "sklearn"}
    return save_model(staged, path, requirements, check=False)


def save_model(
    staged: dict[str, Any], path: Path, requirements: list[str], *, check: bool = True
) -> dict[str, Any]:
    """Save a staged model in ``path`` with its flavor; returns what ``model.json`` keeps."""
    obj = staged["estimator"]
    name = staged.get("flavor") or "sklearn"
    # a flavor a package or the notebook added travels with the model: the agent may not have it
    flavor = staged.get("flavor_object") or model_flavors.get(name)
    if flavor is None:
        raise ValueError(
            f"no model flavor {name!r} in this environment (its package is not installed, or "
            f"its entry point failed: {'; '.join(model_flavors.load_errors) or 'none'})"
        )
    example, expected = staged.get("example"), staged.get("expected")
    if example is not None and expected is None:
        expected = flavor.predict(obj, example)
    plain, spec = plain_inputs(example) if example is not None else (None, None)
    signature = None
    if plain is not None and expected is not None:
        signature = signature_for(plain, expected, category_columns(spec))
    flavor.save(obj, path, signature=signature, input_example=plain, requirements=requirements)
    if spec is not None:
        via = getattr(flavor, "restore_predict_via", None)
        install_restorer(path, spec, via(obj, spec) if callable(via) else None)
    if not check:
        verdict = "unchecked"
    elif plain is None or expected is None:
        verdict = "unchecked: no input example was found"
    else:
        verdict = pyfunc_check(str(path), plain, expected)
    return {
        "class": f"{type(obj).__module__}.{type(obj).__qualname__}",
        "flavor": flavor.name,
        "has_signature": signature is not None,
        "check": verdict,
        "example_source": staged.get("example_source"),
        "params": staged.get("params") or {},
    }


def stage_estimator(estimator: Any, folder: Path, example: Any | None, **extra: Any) -> Path:
    """Pickle ``estimator`` and its input example for the replayer: no MLflow on the cell's path.

    cloudpickle stores classes defined in a notebook by value, so the sync agent (another
    process) can load them. The MLmodel folder is built later from this file (``build_model``).
    ``extra``: the flavor's name, the in-memory prediction on the example, the model's params.
    """
    import cloudpickle

    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "estimator.pkl"
    tmp = folder / ".estimator.pkl.tmp"
    with open(tmp, "wb") as fh:
        cloudpickle.dump({"estimator": estimator, "example": example, **extra}, fh)
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
    meta = save_model(staged, side, requirements)
    (target.parent / "model.json").write_text(json.dumps(meta, default=str))
    _leave_notice(pickled, staged, meta)
    shutil.rmtree(target, ignore_errors=True)
    side.replace(target)


def notices_dir(blob_dir: Path) -> Path:
    """Where the replayer leaves, for the kernel that staged them, models whose pyfunc check
    did not match (a staged model lives in ``blob_dir/<run key>/<model key>/``)."""
    return blob_dir / "model-notices"


def _leave_notice(pickled: Path, staged: dict[str, Any], meta: dict[str, Any]) -> None:
    check = str(meta.get("check") or "")
    if check == "matches" or check.startswith("unchecked"):
        return
    folder = notices_dir(pickled.parents[2])
    folder.mkdir(exist_ok=True)
    notice = {"name": staged.get("name"), "run": staged.get("run_name"), "check": check}
    tmp = folder / f".{pickled.parent.name}.tmp"
    tmp.write_text(json.dumps(notice))
    tmp.replace(folder / f"{pickled.parent.name}.json")


def take_notices(blob_dir: Path) -> list[str]:
    """The notices left for this process since the last call, one line each (then removed)."""
    folder = notices_dir(blob_dir)
    lines = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            notice = json.loads(path.read_text())
            path.unlink()
        except (OSError, ValueError):
            continue
        where = f" (run {notice['run']})" if notice.get("run") else ""
        lines.append(
            f"model {notice.get('name')!r}{where} does not predict through pyfunc as it did in "
            f"memory: {notice.get('check')}"
        )
    return lines


def model_tags(meta: dict[str, Any]) -> dict[str, str]:
    """The tags a built model's description (``model.json``) puts on the logged model."""
    tags = {MODEL_CLASS_TAG: meta.get("class", "")}
    for key, tag in (("flavor", FLAVOR_TAG), ("check", PYFUNC_CHECK_TAG)):
        if meta.get(key):
            tags[tag] = str(meta[key])[:5000]
    if meta.get("example_source"):
        tags[EXAMPLE_SOURCE_TAG] = str(meta["example_source"])[:5000]
    return tags


def describe_built_model(client: Any, run_id: str, model_id: str, name: str, info: Path) -> None:
    """Tag the logged model (class, flavor, pyfunc check), log its own params, and say on the
    run when its pyfunc predictions did not match. Each call is safe to repeat."""
    if not info.exists():
        return
    meta = json.loads(info.read_text())
    client.set_logged_model_tags(model_id, model_tags(meta))
    params = {str(k): str(v) for k, v in (meta.get("params") or {}).items()}
    items = list(params.items())
    for start in range(0, len(items), PARAMS_PER_CALL):
        client.log_model_params(model_id, dict(items[start : start + PARAMS_PER_CALL]))
    check = str(meta.get("check") or "")
    if check and check != "matches" and not check.startswith("unchecked"):
        client.set_tag(run_id, pyfunc_check_tag(name), check[:5000])


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

    Each step is idempotent and recorded through ``record`` once MLflow confirmed it; ``done``
    holds the steps an earlier attempt finished, so a retry resumes after them. A step whose
    answer was lost is checked on the server before it is sent again: the model is looked up by
    its ``mlops.model_key`` tag before creating another, and the run's outputs before linking.
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
                model_type=_flavor_of(staged),
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
        client.log_model_artifacts(model_id, str(staged))  # overwrites: safe to repeat
        record("uploaded", None)
    if "finalized" not in done:
        client.finalize_logged_model(model_id, LoggedModelStatus.READY)
        record("finalized", None)
    if "tagged" not in done:
        client.set_tag(run_id, model_tag(name), f"models:/{model_id}")
        describe_built_model(client, run_id, model_id, name, staged.parent / "model.json")
        record("tagged", None)
    return model_id


def _flavor_of(staged: Path) -> str:
    info = staged.parent / "model.json"
    meta = json.loads(info.read_text()) if info.exists() else {}
    return str(meta.get("flavor") or "sklearn")


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
