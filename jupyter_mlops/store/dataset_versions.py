"""Landing a journaled dataset registration in MLflow: one version per (name, digest), on any machine.

A registration only journals a ``dataset`` record and stages its snapshot (a hard link); the
replayer lands it here, as the run of kind ``dataset`` in the experiment ``mlops-datasets`` that
``datasets.registry`` reads. The version's key is its name and digest tags, the same on every
machine, so landing is a search before a create:

1. search the active runs carrying the key; a version found is adopted, nothing is created;
2. otherwise create the run (with this record's token), wait ``SETTLE_S``, and search again;
3. of several runs with the key (two machines created at once), the earliest (start time, then
   run id) is the version: a later one carrying our token is deleted, the earliest adopted.

Why that converges: a run B that an earlier creator A did not see after its settle was created
more than ``SETTLE_S`` after B's own search found nothing, i.e. after A's run existed, so B's
start time is later than A's (clocks within ``SETTLE_S`` of each other) and B sees A when it
searches again: B deletes itself. Readers order versions the same way and count one per
(name, digest), so even a duplicate that is still being deleted never shows as a version.

Each step is safe to repeat: a retry starts again at 1 and finds its own run by its token,
completing it (inputs, snapshot upload, FINISHED) if an earlier attempt stopped half-way.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..tags import (
    DATASET_COLUMNS_TAG,
    DATASET_DIGEST_TAG,
    DATASET_FILE_HASH_TAG,
    DATASET_FORMAT_TAG,
    DATASET_NAME_TAG,
    DATASET_ROWS_TAG,
    DATASET_SNAPSHOT_RUN_TAG,
    DATASET_SOURCE_TAG,
    DATASET_TOKEN_TAG,
    KIND_TAG,
)
from ..workspace import Workspace
from .client import experiment_id

EXPERIMENT = "mlops-datasets"
KIND = "dataset"
T_DIGEST, T_NAME = DATASET_DIGEST_TAG, DATASET_NAME_TAG
T_FILE_HASH, T_FORMAT = DATASET_FILE_HASH_TAG, DATASET_FORMAT_TAG
T_ROWS, T_COLS = DATASET_ROWS_TAG, DATASET_COLUMNS_TAG
T_SNAPSHOT_RUN, T_SOURCE = DATASET_SNAPSHOT_RUN_TAG, DATASET_SOURCE_TAG
T_TOKEN = DATASET_TOKEN_TAG
SNAPSHOT_DIR = "snapshot"
SETTLE_S = 0.3
JOURNAL_PREFIX = "dataset-"


def journal_key(name: str, digest: str) -> str:
    """The journal's key of a version's registration (and of its row in ``datasets``)."""

    return JOURNAL_PREFIX + hashlib.sha256(f"{name}\0{digest}".encode()).hexdigest()[:32]


def snapshot_uri(run_id: str, digest: str) -> str:
    return f"runs:/{run_id}/{SNAPSHOT_DIR}/{digest}.arrow"


@dataclass(frozen=True)
class LandedVersion:
    run_id: str
    snapshot_run: str | None
    file_hash: str | None


def _search(client: Any, exp_id: str, name: str | None, digest: str) -> list[Any]:
    flt = f"tags.`{KIND_TAG}` = '{KIND}' AND tags.`{T_DIGEST}` = '{digest}'"
    if name is not None:
        flt += f" AND tags.`{T_NAME}` = '{name}'"
    return list(client.search_runs([exp_id], filter_string=flt, max_results=1000))


def _earliest(runs: list[Any]) -> Any:
    return min(runs, key=lambda r: (r.info.start_time or 0, r.info.run_id))


def land(
    ws: Workspace, client: Any, data: dict[str, Any], settle: float = SETTLE_S
) -> LandedVersion:
    """Create (or find) the version ``data`` describes; returns the run that is the version."""
    exp_id = experiment_id(ws, EXPERIMENT, client=client)
    assert exp_id is not None
    name, digest = data["name"], data["digest"]
    found = _search(client, exp_id, name, digest)
    if not found:
        _create(client, exp_id, data)
        if settle:
            time.sleep(settle)
        found = _search(client, exp_id, name, digest)
    return _adopt(client, found, data)


def _create(client: Any, exp_id: str, data: dict[str, Any]) -> None:
    tags = dict(data["tags"])
    tags.update({KIND_TAG: KIND, T_NAME: data["name"], T_DIGEST: data["digest"]})
    tags[T_TOKEN] = data["token"]
    same_data = _search(client, exp_id, None, data["digest"])
    holder = next((r for r in same_data if _holds_snapshot(r, data["name"])), None)
    if holder is not None:  # the same data under another name: share its snapshot
        tags[T_SNAPSHOT_RUN] = holder.info.run_id
        tags[T_FILE_HASH] = holder.data.tags[T_FILE_HASH]
    elif data.get("snapshot"):
        tags[T_FILE_HASH] = data["file_hash"]
    client.create_run(
        exp_id,
        start_time=int(time.time() * 1000),
        tags=tags,
        run_name=f"{data['name']}@{data['digest'][:8]}",
    )


def _holds_snapshot(run: Any, name: str) -> bool:
    """A finished version of other name whose own snapshot is uploaded (one of the same name
    may be a rival creator that is about to delete itself)."""
    tags = run.data.tags
    return (
        run.info.status == "FINISHED"
        and tags.get(T_NAME) != name
        and bool(tags.get(T_FILE_HASH))
        and not tags.get(T_SNAPSHOT_RUN)
    )


def _adopt(client: Any, found: list[Any], data: dict[str, Any]) -> LandedVersion:
    if not found:
        raise LookupError(f"dataset {data['name']!r}: the run just created is not found")
    version = _earliest(found)
    for run in found:
        if run is not version and run.data.tags.get(T_TOKEN) == data["token"]:
            client.delete_run(run.info.run_id)  # an earlier creator won: ours goes
    tags = version.data.tags
    if tags.get(T_TOKEN) == data["token"] and version.info.status != "FINISHED":
        _complete(client, version, data)
    return LandedVersion(
        version.info.run_id, tags.get(T_SNAPSHOT_RUN) or None, tags.get(T_FILE_HASH) or None
    )


def _complete(client: Any, run: Any, data: dict[str, Any]) -> None:
    """Inputs, snapshot and status of our own version run: each step safe to repeat."""
    from mlflow.entities import Dataset, DatasetInput, InputTag

    run_id, digest = run.info.run_id, data["digest"]
    holder = run.data.tags.get(T_SNAPSHOT_RUN) or run_id
    source = {"uri": snapshot_uri(holder, digest), **(data.get("source") or {})}
    dataset = Dataset(
        name=data["name"],
        digest=digest,
        source_type="mlops_snapshot",
        source=json.dumps(source),
        schema=data.get("schema"),
        profile=data.get("profile"),
    )
    context = [InputTag("mlflow.data.context", "snapshot")]
    client.log_inputs(run_id, datasets=[DatasetInput(dataset, context)])  # linked once by MLflow
    if holder == run_id and data.get("snapshot"):
        upload_snapshot(client, run.info.artifact_uri, run_id, Path(data["snapshot"]), digest)
    client.set_terminated(run_id, "FINISHED")


def upload_snapshot(client: Any, artifact_uri: str, run_id: str, path: Path, digest: str) -> None:
    """Local artifact stores get a hard link (no copy of a GB file); others the usual upload."""
    name = f"{digest}.arrow"
    if artifact_uri.startswith("file:"):
        from mlflow.utils.file_utils import local_file_uri_to_path

        folder = Path(local_file_uri_to_path(artifact_uri)) / SNAPSHOT_DIR
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / name
        tmp = folder / f".{name}.{os.getpid()}.tmp"
        tmp.unlink(missing_ok=True)
        try:
            os.link(path, tmp)
        except OSError:
            shutil.copyfile(path, tmp)
        os.replace(tmp, target)
        return
    if path.name != name:
        raise ValueError(f"staged snapshot {path.name} is not named after digest {digest}")
    client.log_artifact(run_id, str(path), SNAPSHOT_DIR)


def find(ws: Workspace, client: Any, name: str, digest: str) -> LandedVersion | None:
    """The landed version of (name, digest), if any machine landed it."""
    exp_id = experiment_id(ws, EXPERIMENT, create=False, client=client)
    if exp_id is None:
        return None
    found = _search(client, exp_id, name, digest)
    if not found:
        return None
    version = _earliest(found)
    tags = version.data.tags
    return LandedVersion(
        version.info.run_id, tags.get(T_SNAPSHOT_RUN) or None, tags.get(T_FILE_HASH) or None
    )
