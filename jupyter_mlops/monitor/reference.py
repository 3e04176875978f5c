"""What live traffic is compared with: the training dataset version found through lineage.

registered model version -> its run -> the run's MLflow dataset inputs with context ``training``
-> the stored snapshot (``jupyter_mlops.datasets.api.load_dataset(digest)``). A run whose inputs
carry no context (a tracked cell records every frame it read) is matched by schema instead: the
input that holds every column of the model's signature. Each link can be missing (a version
registered from elsewhere, a run that logged no dataset, a snapshot not kept); then the report
says which link is missing instead of failing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..datasets.versions import load, resolve
from ..release.signing import verified_files

if TYPE_CHECKING:
    from ..store.gateway import Gateway

TRAINING_CONTEXTS = ("training", "train")
MAX_PREDICTION_ROWS = 20_000


@dataclass
class TrainingReference:
    frame: Any = None  # pandas DataFrame, or None when not found
    description: str = ""
    features: list[str] | None = None  # the model's input columns (signature), when known
    predictions: Any = None  # the model's outputs on (a sample of) the frame
    notes: list[str] = field(default_factory=list)


def _dataset_inputs(run: Any) -> list[tuple[Any, str | None]]:
    out = []
    for di in run.inputs.dataset_inputs if run.inputs else []:
        ctx = next((t.value for t in di.tags if t.key == "mlflow.data.context"), None)
        out.append((di.dataset, ctx))
    return out


def _load_snapshot(gw: Gateway, dataset: Any) -> Any:
    return load(gw, resolve(gw, dataset.digest))


def training_reference(
    gw: Gateway, model: str, version: str | None, *, with_predictions: bool = True
) -> TrainingReference:
    """The training data (and the model's predictions on it) of ``model`` version ``version``."""
    from mlflow.exceptions import MlflowException

    ref = TrainingReference()
    if version is None:
        ref.notes.append(f"{model} has no champion or logged version to compare with")
        return ref
    client = gw.client
    try:
        mv = client.get_model_version(model, str(version))
    except MlflowException:
        ref.notes.append(f"{model} v{version} is not in the registry; no training data to compare")
        return ref
    if not mv.run_id:
        ref.notes.append(f"{model} v{version} has no source run: no training dataset recorded")
        return ref
    try:
        run = client.get_run(mv.run_id)
    except MlflowException:
        ref.notes.append(f"run {mv.run_id} of {model} v{version} is gone: no training dataset")
        return ref
    inputs = _dataset_inputs(run)
    training = [d for d, ctx in inputs if (ctx or "").lower() in TRAINING_CONTEXTS]
    loaded = None
    if not training and inputs:
        # a tracked cell records what it read (X, y...) without a context: the input holding
        # every column of the model's signature is what the model was fitted on
        loaded = _load_version(gw, model, str(version), ref.notes)
        features = _signature_inputs(loaded) if loaded is not None else None
        training = _covering_inputs([d for d, _ in inputs], features)
        if not training and len(inputs) == 1:
            training = [inputs[0][0]]
    if not training:
        ref.notes.append(
            f"no training dataset recorded for {model} v{version} (run {mv.run_id[:8]}); "
            "input drift not computed"
        )
        return ref
    ds = training[0]
    ref.description = f"training dataset {ds.name} ({ds.digest[:12]}) of run {mv.run_id[:8]}"
    try:
        ref.frame = _load_snapshot(gw, ds)
    except Exception as exc:  # ImportError, NotFound, IntegrityError...
        ref.notes.append(f"{ref.description} cannot be loaded: {exc}")
        ref.frame = None
        return ref
    if loaded is None:
        loaded = _load_version(gw, model, str(version), ref.notes)
    if loaded is not None:
        ref.features = _signature_inputs(loaded)
        if with_predictions:
            ref.predictions = _predictions_on(loaded, ref.frame, ref.features, ref.notes)
    return ref


def _schema_columns(dataset: Any) -> set[str]:
    try:
        spec = json.loads(dataset.schema or "{}").get("mlflow_colspec") or []
        return {str(c["name"]) for c in spec if isinstance(c, dict) and "name" in c}
    except (ValueError, AttributeError, TypeError):
        return set()


def _covering_inputs(datasets: list[Any], features: list[str] | None) -> list[Any]:
    """Dataset inputs whose schema holds every signature column, fewest extra columns first."""
    if not features:
        return []
    wanted = set(features)
    found = [(len(cols - wanted), d) for d in datasets if wanted <= (cols := _schema_columns(d))]
    return [d for _, d in sorted(found, key=lambda pair: pair[0])]


def _load_version(gw: Gateway, model: str, version: str, notes: list[str]) -> Any:
    """The version's MLflow pyfunc model, loaded from the workspace's own store once its files
    match their signature (or None, with a note saying why)."""
    try:
        import mlflow.pyfunc

        with verified_files(gw, model, version) as checked:
            return mlflow.pyfunc.load_model(str(checked.folder))
    except Exception as exc:
        notes.append(f"cannot load {model} v{version} ({exc}); prediction drift not computed")
        return None


def _signature_inputs(loaded: Any) -> list[str] | None:
    try:
        schema = loaded.metadata.get_input_schema()
        return list(schema.input_names()) if schema is not None else None
    except Exception:
        return None


def _predictions_on(loaded: Any, frame: Any, features: list[str] | None, notes: list[str]) -> Any:
    """The version's outputs on a sample of its training data, to judge prediction drift."""
    import numpy as np

    try:
        sample = frame.sample(min(len(frame), MAX_PREDICTION_ROWS), random_state=0)
        if features:
            sample = sample[[c for c in features if c in sample.columns]]
        pred = loaded.predict(sample)
        values = pred.iloc[:, 0] if hasattr(pred, "iloc") and pred.ndim == 2 else pred
        return np.asarray(values)
    except Exception as exc:
        notes.append(f"prediction drift not computed: cannot score the training data ({exc})")
        return None
