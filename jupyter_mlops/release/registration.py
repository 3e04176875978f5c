"""Registration: a run's logged model becomes a registered version carrying its lineage.

Also the one place that resolves ``MODEL``, ``MODEL VERSION`` and ``MODEL@ALIAS`` references and
that decides whether a model's bytes may be loaded at all: only from the workspace's own store,
because a pickled model is code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from ..errors import InvalidInput, NotFound
from ..journal.events import VERSION_REGISTERED, emit
from ..limits import LIST_TEXT
from ..store.runs import get_run
from ..tags import (
    ENV_HASH_TAG,
    GIT_SHA_TAG,
    KIND_TAG,
    LINEAGE_TAG,
    NOTEBOOK_TAG,
    REGISTERED_BY_TAG,
    TAG_PREFIX,
)
from ..workspace import Workspace
from .aliases.change import PlannedChange, change
from .permissions import require
from .policy import load_policy
from .registered_model import T_GATES, T_MODEL_ID, T_RUN
from .registered_model import check_name as check_name
from .registered_model import get_registered_model as get_registered_model
from .signing_keys import sign_logged_model

if TYPE_CHECKING:
    from mlflow.entities.model_registry import ModelVersion

    from ..store.gateway import Gateway


def get_version(gw: Gateway, name: str, version: str | int) -> ModelVersion:
    """Version ``version`` (a number) of model ``name``, the name checked first."""
    return gw.model_version(check_name(name), version)


def resolve(gw: Gateway, ref: str, version: str | int | None = None) -> ModelVersion:
    """``MODEL@ALIAS``, ``MODEL/VERSION``, ``MODEL`` + version (number or alias)."""
    from mlflow.exceptions import MlflowException

    name, alias = ref, None
    if "@" in ref:
        name, alias = ref.split("@", 1)
    elif "/" in ref:
        name, version = ref.split("/", 1)
    if version is not None and not str(version).isdigit():
        alias = str(version)
    if alias is None:
        if version is None:
            raise InvalidInput(f"{ref!r} names no version", hint="use MODEL@ALIAS or MODEL VERSION")
        return get_version(gw, name, version)
    model = get_registered_model(gw, name)
    if alias not in model.aliases:
        raise NotFound(
            f"model {name!r} has no alias {alias!r}",
            hint=f"its aliases: {', '.join(sorted(model.aliases)) or 'none yet'}",
        )
    try:
        return gw.client.get_model_version_by_alias(name, alias)
    except MlflowException as exc:  # deleted under us
        raise NotFound(str(exc.message)) from None


@dataclass
class StoreLocation:
    """Where a model's bytes are and whether they belong to this workspace's store."""

    uri: str
    local_path: Path | None  # set when readable in place (embedded store)


def check_source(ws: Workspace, uri: str, *, experiment_root: str | None = None) -> StoreLocation:
    """Refuse model bytes from outside the workspace's store (they may be a hostile pickle)."""
    parsed = urlparse(uri)
    if ws.is_embedded:
        if parsed.scheme not in ("file", ""):
            raise InvalidInput(
                f"model source {uri!r} is outside this workspace's store",
                hint="register models logged into this workspace only",
            )
        path = Path(unquote(parsed.path)).resolve()
        store_root = ws.artifacts_dir.resolve()
        if not path.is_relative_to(store_root):
            raise InvalidInput(
                f"model source {uri!r} is outside this workspace's store ({store_root})",
                hint="register models logged into this workspace only",
            )
        return StoreLocation(uri, path)
    server = urlparse(ws.tracking_uri).netloc
    if parsed.scheme == "mlflow-artifacts" and parsed.netloc in ("", server):
        return StoreLocation(uri, None)  # proxied by this tracking server: its own store
    root = (experiment_root or "").rstrip("/")
    if not root or not uri.startswith(root + "/") or ".." in parsed.path.split("/"):
        raise InvalidInput(
            f"model source {uri!r} is not under this tracking server's artifact store",
            hint="register models logged on this tracking server only",
        )
    return StoreLocation(uri, None)


def version_location(gw: Gateway, mv: ModelVersion) -> StoreLocation:
    """The checked location of a registered version's model files."""
    root = None
    if not gw.ws.is_embedded:
        model_id = mv.tags.get(T_MODEL_ID)
        if model_id:
            lm = gw.client.get_logged_model(model_id)
            root = gw.client.get_experiment(lm.experiment_id).artifact_location
    return check_source(gw.ws, mv.source or "", experiment_root=root)


def _model_of_run(gw: Gateway, run: Any, model_name: str | None) -> Any:
    client = gw.client
    ids = [o.model_id for o in (run.outputs.model_outputs if run.outputs else [])]
    if not ids:
        found = client.search_logged_models(
            experiment_ids=[run.info.experiment_id],
            filter_string=f"source_run_id = '{run.info.run_id}'",
        )
        ids = [m.model_id for m in found]
    models = [client.get_logged_model(i) for i in dict.fromkeys(ids)]
    if model_name:
        models = [m for m in models if m.name == model_name]
    if not models:
        raise NotFound(
            f"run {run.info.run_id} has no logged model"
            + (f" named {model_name!r}" if model_name else ""),
            hint="log one with `run.log_model(estimator)` or `%%mlops track`",
        )
    if len(models) > 1:
        raise InvalidInput(
            f"run {run.info.run_id} has {len(models)} models: "
            + ", ".join(sorted(m.name for m in models)),
            hint="choose one with --model NAME",
        )
    return models[0]


def lineage_of(run: Any) -> dict[str, Any]:
    """Run, notebook, datasets and environment of a run, as stored on its model version."""
    tags = run.data.tags
    datasets = []
    for di in run.inputs.dataset_inputs if run.inputs else []:
        ds = di.dataset
        ctx = next((t.value for t in di.tags if t.key == "mlflow.data.context"), None)
        datasets.append({"name": ds.name, "digest": ds.digest, "source": ds.source, "context": ctx})
    return {
        "run_id": run.info.run_id,
        "run_name": run.info.run_name,
        "experiment_id": run.info.experiment_id,
        "notebook": tags.get(NOTEBOOK_TAG) or tags.get("mlflow.source.name"),
        "git_sha": tags.get(GIT_SHA_TAG) or tags.get("mlflow.source.git.commit"),
        "env_hash": tags.get(ENV_HASH_TAG),
        "datasets": datasets,
    }


def register(
    gw: Gateway,
    run_ref: str,
    name: str | None = None,
    *,
    model_name: str | None = None,
    actor: str | None = None,
    reason: str | None = None,
) -> ModelVersion:
    """Register the run's model as a new version of ``name`` with alias ``candidate``."""
    from mlflow.exceptions import MlflowException

    ws = gw.ws
    name = check_name(name or load_policy(ws).model_name or ws.name)
    client = gw.client
    try:
        client.get_registered_model(name)
    except MlflowException:
        pass  # a new model: whoever may create one becomes its MANAGE holder
    else:
        require(gw, name, "EDIT", f"register a version of {name}")
    run = get_run(gw, run_ref)
    lm = _model_of_run(gw, run, model_name)
    root = None if ws.is_embedded else client.get_experiment(lm.experiment_id).artifact_location
    loc = check_source(ws, lm.artifact_location, experiment_root=root)
    lineage = lineage_of(run)
    who = gw.actor(actor)
    # signed before the version exists: a key that cannot sign leaves no unsigned version
    signature = sign_logged_model(gw, lm.model_id, loc.uri, loc.local_path, who)
    tags = {
        T_RUN: run.info.run_id,
        T_MODEL_ID: lm.model_id,
        T_GATES: "pending",
        REGISTERED_BY_TAG: who,
        LINEAGE_TAG: json.dumps(lineage, sort_keys=True)[:LIST_TEXT],
        **(signature.tags() if signature else {}),
    }
    for key in ("notebook", "git_sha", "env_hash"):
        if lineage.get(key):
            tags[f"{TAG_PREFIX}{key}"] = str(lineage[key])[:LIST_TEXT]
    try:
        client.get_registered_model(name)
    except MlflowException:
        try:
            client.create_registered_model(name, tags={KIND_TAG: "model"})
        except MlflowException as exc:
            if "already exists" not in str(exc).lower():
                raise
    # the artifact location (not models:/m-...) because MLflow's SQL registry resolves
    # models:/ URIs through the process-global tracking URI, which library code never sets
    mv = client.create_model_version(
        name, source=lm.artifact_location, run_id=run.info.run_id, tags=tags, model_id=lm.model_id
    )
    v = str(mv.version)
    emit(
        ws,
        VERSION_REGISTERED,
        model=name,
        payload={
            "version": v,
            "run_id": run.info.run_id,
            "model_id": lm.model_id,
            "reason": reason,
        },
        actor=tags[REGISTERED_BY_TAG],
        key=(v, run.info.run_id),
    )
    details = {"run": run.info.run_id, "alias": "candidate"}
    if signature:
        details.update({"signed_by": signature.signer, "key": signature.key_id})
    change(
        gw,
        name,
        lambda rm: PlannedChange("register", v, [["alias", "candidate", v]], details),
        actor=actor,
        reason=reason,
    )
    return client.get_model_version(name, mv.version)


def model_dir(gw: Gateway, mv: Any) -> Path:
    """A local folder with the version's files (in place for the embedded store)."""
    loc = version_location(gw, mv)
    if loc.local_path is not None:
        return loc.local_path
    return gw.download(loc.uri, gw.ws.subdir("serving") / mv.name / str(mv.version))
