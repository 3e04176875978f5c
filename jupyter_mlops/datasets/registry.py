"""Dataset versions kept in MLflow itself, so anyone on the same tracking server can load them.

Each (name, digest) pair is one run of kind ``dataset`` in the experiment ``mlops-datasets``; the
first run of a digest holds the snapshot file as its artifact ``snapshot/<digest>.arrow`` and
logs the dataset as its own MLflow input (so the MLflow UI lists it). Version numbers are not
stored: ``name@3`` is the third digest registered under ``name``, ordered by registration time,
which leaves no counter to race on. A bare digest (or an unambiguous prefix of 6+ hex digits)
names a version too.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..durable import replace_durably, sync_file
from ..errors import Conflict, InvalidInput, NotFound
from ..locks import FileLock
from ..store.client import client_for, experiment_id
from ..workspace import Workspace
from .snapshots import FORMAT, SnapshotFile, cache_path, read_snapshot, write_snapshot

EXPERIMENT = "mlops-datasets"
KIND = "dataset"
T_DIGEST, T_NAME = "mlops.dataset.digest", "mlops.dataset.name"
T_FILE_HASH, T_FORMAT = "mlops.dataset.file_hash", "mlops.dataset.format"
T_ROWS, T_COLS = "mlops.dataset.rows", "mlops.dataset.columns"
T_SNAPSHOT_RUN, T_SOURCE = "mlops.dataset.snapshot_run", "mlops.dataset.source"
SNAPSHOT_DIR = "snapshot"
_HEX = re.compile(r"^[0-9a-f]{6,32}$")
_NAME = re.compile(r"^[A-Za-z0-9_.\-/ ]{1,200}$")

_known: dict[tuple[str, str, str], DatasetVersion] = {}
_guard = threading.Lock()
REGISTER_LOCK_S = 120.0


@dataclass
class DatasetVersion:
    name: str
    digest: str
    run_id: str
    created: int = 0
    rows: int | None = None
    columns: int | None = None
    version: int | None = None
    snapshot_run: str | None = None
    file_hash: str | None = None
    source: dict[str, Any] = field(default_factory=dict)
    snapshot_problem: str | None = None  # why no snapshot was kept, when none could be

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}" if self.version else f"{self.name}@{self.digest[:8]}"

    def __repr__(self) -> str:
        shape = f", {self.rows} rows x {self.columns} cols" if self.rows is not None else ""
        return f"<dataset version {self.ref} digest {self.digest[:12]}{shape}>"

    @property
    def snapshot_uri(self) -> str:
        return f"runs:/{self.snapshot_run or self.run_id}/{SNAPSHOT_DIR}/{self.digest}.arrow"


def cache_folder(ws: Workspace) -> Path:
    return ws.subdir("datasets")


def check_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name) or "@" in name:
        raise InvalidInput(
            f"{name!r} is not a dataset name",
            hint="use letters, digits, '_', '-', '.', '/' (no '@'), at most 200 characters",
        )
    return name


def _from_run(run: Any) -> DatasetVersion:
    tags = run.data.tags
    try:
        source = json.loads(tags.get(T_SOURCE) or "{}")
    except ValueError:
        source = {}
    return DatasetVersion(
        name=tags.get(T_NAME, ""),
        digest=tags.get(T_DIGEST, ""),
        run_id=run.info.run_id,
        created=run.info.start_time or 0,
        rows=int(tags[T_ROWS]) if tags.get(T_ROWS, "").isdigit() else None,
        columns=int(tags[T_COLS]) if tags.get(T_COLS, "").isdigit() else None,
        snapshot_run=tags.get(T_SNAPSHOT_RUN) or None,
        file_hash=tags.get(T_FILE_HASH) or None,
        source=source,
    )


def _search(ws: Workspace, filter_string: str, max_results: int = 1000) -> list[Any]:
    exp = experiment_id(ws, EXPERIMENT, create=False)
    if exp is None:
        return []
    client = client_for(ws)
    flt = f"tags.`mlops.kind` = '{KIND}'" + (f" AND {filter_string}" if filter_string else "")
    return list(
        client.search_runs(
            [exp],
            filter_string=flt,
            order_by=["attributes.start_time ASC"],
            max_results=max_results,
        )
    )


def list_versions(ws: Workspace, name: str | None = None) -> list[DatasetVersion]:
    """Every registered version (of ``name``), oldest first, numbered per name."""
    flt = f"tags.`{T_NAME}` = '{check_name(name)}'" if name else ""
    versions = [_from_run(r) for r in _search(ws, flt)]
    counters: dict[str, int] = {}
    for v in versions:
        counters[v.name] = counters.get(v.name, 0) + 1
        v.version = counters[v.name]
    return versions


def find_by_digest(ws: Workspace, digest: str) -> list[DatasetVersion]:
    if len(digest) == 32:
        runs = _search(ws, f"tags.`{T_DIGEST}` = '{digest}'")
    else:
        runs = _search(ws, f"tags.`{T_DIGEST}` LIKE '{digest}%'")
    return [_from_run(r) for r in runs]


def resolve(ws: Workspace, ref: str) -> DatasetVersion:
    """``name``, ``name@N``, ``name@latest``, ``name@<digest prefix>`` or a digest (prefix)."""
    if not isinstance(ref, str) or not ref.strip():
        raise InvalidInput(
            f"{ref!r} is not a dataset reference", hint="use NAME@VERSION or a digest"
        )
    ref = ref.strip()
    name, _, version = ref.partition("@")
    if not version and _HEX.match(ref):
        found = find_by_digest(ws, ref)
        digests = {v.digest for v in found}
        if len(digests) > 1:
            raise InvalidInput(
                f"digest prefix {ref!r} matches {len(digests)} dataset versions",
                hint="give more digits of the digest",
            )
        if found:
            named = {v.name: v for v in list_versions(ws, found[0].name)}
            match = next(v for v in named.values() if v.digest == found[0].digest)
            return _with_snapshot(match, found)
        if len(ref) != 32:
            raise NotFound(
                f"no dataset version with digest {ref!r}",
                hint="list versions with `%mlops datasets` or `jupyter-mlops datasets`",
            )
        return DatasetVersion(name=ref[:8], digest=ref, run_id="")  # maybe only in the local cache
    versions = list_versions(ws, name)
    if not versions:
        raise NotFound(
            f"no dataset named {name!r}",
            hint="log one with `%mlops dataset EXPR --name NAME`; list them with `%mlops datasets`",
        )
    if not version or version == "latest":
        return _with_snapshot(versions[-1], versions)
    if version.isdigit():
        n = int(version)
        if not 1 <= n <= len(versions):
            raise NotFound(
                f"dataset {name!r} has versions 1 to {len(versions)}, not {n}",
                hint=f"list them with `%mlops datasets {name}`",
            )
        return _with_snapshot(versions[n - 1], versions)
    matches = [v for v in versions if v.digest.startswith(version.lower())]
    if len(matches) != 1:
        raise NotFound(
            f"dataset {name!r} has no single version {version!r}",
            hint=f"use a version number (1..{len(versions)}) or more digest digits",
        )
    return _with_snapshot(matches[0], versions)


def _with_snapshot(version: DatasetVersion, others: list[DatasetVersion]) -> DatasetVersion:
    if not version.snapshot_run:
        holder = next((o for o in others if o.digest == version.digest and o.file_hash), None)
        if holder is not None and holder.run_id != version.run_id:
            version.snapshot_run, version.file_hash = holder.run_id, holder.file_hash
    return version


def register(
    ws: Workspace,
    df: Any,
    name: str,
    digest: str,
    *,
    schema: dict[str, Any],
    profile: dict[str, Any],
    source: dict[str, Any] | None = None,
    snapshot: bool = True,
) -> DatasetVersion:
    """Register ``df`` (already fingerprinted) as a version of ``name``: once per (name, digest)."""
    check_name(name)
    key = (ws.tracking_uri, name, digest)
    with _guard:
        known = _known.get(key)
    if known is not None:
        return known
    # search-then-create must not interleave with another process registering the same data
    lock = FileLock(ws.subdir("locks") / f"dataset-{digest[:32]}.lock")
    if not lock.acquire(timeout=REGISTER_LOCK_S):
        raise Conflict(
            f"dataset {name!r} ({digest[:12]}) is being registered by {lock.holder()}",
            hint="retry when that process is done",
        )
    try:
        return _register_locked(ws, df, name, digest, schema, profile, source, snapshot, key)
    finally:
        lock.release()


def _register_locked(
    ws: Workspace,
    df: Any,
    name: str,
    digest: str,
    schema: dict[str, Any],
    profile: dict[str, Any],
    source: dict[str, Any] | None,
    snapshot: bool,
    key: tuple[str, str, str],
) -> DatasetVersion:
    existing = find_by_digest(ws, digest)
    same = next((v for v in existing if v.name == name), None)
    if same is not None:
        with _guard:
            _known[key] = _with_snapshot(same, existing)
        return same
    holder = next((v for v in existing if v.file_hash and not v.snapshot_run), None)
    snap: SnapshotFile | None = None
    if holder is None and snapshot:
        snap = write_snapshot(cache_folder(ws), df, digest)
    version = _create_run(ws, df, name, digest, schema, profile, source or {}, snap, holder)
    with _guard:
        _known[key] = version
    return version


def _create_run(
    ws: Workspace,
    df: Any,
    name: str,
    digest: str,
    schema: dict[str, Any],
    profile: dict[str, Any],
    source: dict[str, Any],
    snap: SnapshotFile | None,
    holder: DatasetVersion | None,
) -> DatasetVersion:
    from mlflow.entities import Dataset, DatasetInput, InputTag

    client = client_for(ws)
    tags = {
        "mlops.kind": KIND,
        T_NAME: name,
        T_DIGEST: digest,
        T_ROWS: str(len(df)),
        T_COLS: str(len(df.columns)),
        T_FORMAT: FORMAT,
        T_SOURCE: json.dumps(source)[:5000],
    }
    if snap is not None:
        tags[T_FILE_HASH] = snap.file_hash
    if holder is not None:
        tags[T_SNAPSHOT_RUN] = holder.run_id
        tags[T_FILE_HASH] = holder.file_hash or ""
    run = client.create_run(
        experiment_id(ws, EXPERIMENT), run_name=f"{name}@{digest[:8]}", tags=tags
    )
    run_id = run.info.run_id
    try:
        dataset = Dataset(
            name=name,
            digest=digest,
            source_type="mlops_snapshot",
            source=json.dumps({"uri": f"runs:/{run_id}/{SNAPSHOT_DIR}/{digest}.arrow", **source}),
            schema=json.dumps(schema),
            profile=json.dumps(profile),
        )
        client.log_inputs(
            run_id, datasets=[DatasetInput(dataset, [InputTag("mlflow.data.context", "snapshot")])]
        )
        if snap is not None:
            _upload(client, run.info.artifact_uri, run_id, snap.path)
    except BaseException:
        client.set_terminated(run_id, "FAILED")
        raise
    client.set_terminated(run_id, "FINISHED")
    return DatasetVersion(
        name=name,
        digest=digest,
        run_id=run_id,
        created=run.info.start_time or 0,
        rows=len(df),
        columns=len(df.columns),
        snapshot_run=holder.run_id if holder else None,
        file_hash=tags.get(T_FILE_HASH) or None,
        source=source,
    )


def _upload(client: Any, artifact_uri: str, run_id: str, path: Path) -> None:
    """Local artifact stores get a hard link (no copy of a GB file); others the usual upload."""
    if artifact_uri.startswith("file:"):
        from mlflow.utils.file_utils import local_file_uri_to_path

        folder = Path(local_file_uri_to_path(artifact_uri)) / SNAPSHOT_DIR
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / path.name
        try:
            os.link(path, target)
        except OSError:
            shutil.copyfile(path, target)
        return
    client.log_artifact(run_id, str(path), SNAPSHOT_DIR)


def load(ws: Workspace, version: DatasetVersion) -> Any:
    """The verified DataFrame of ``version``, from the local cache or else the tracking server."""
    local = cache_path(cache_folder(ws), version.digest)
    if not local.exists():
        if not version.run_id:
            raise NotFound(
                f"no dataset version with digest {version.digest!r}",
                hint="list versions with `%mlops datasets` or `jupyter-mlops datasets`",
            )
        if not version.file_hash:
            raise NotFound(
                f"dataset {version.ref} was recorded without a snapshot",
                hint="log it again with `%mlops dataset EXPR` to keep a copy",
            )
        _download(ws, version, local)
    return read_snapshot(local, version.digest, version.file_hash)


def _download(ws: Workspace, version: DatasetVersion, local: Path) -> None:
    from mlflow.exceptions import MlflowException

    client = client_for(ws)
    run_id = version.snapshot_run or version.run_id
    local.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=local.parent, prefix=".download-") as tmp:
        try:
            got = client.download_artifacts(run_id, f"{SNAPSHOT_DIR}/{local.name}", tmp)
        except (MlflowException, OSError) as exc:
            raise NotFound(
                f"the snapshot of dataset {version.ref} is missing from the tracking server: {exc}",
                hint="log the data again with `%mlops dataset EXPR`",
            ) from None
        sync_file(got)
        replace_durably(got, local)


def forget_known() -> None:
    """Tests that swap stores call this; it only drops the in-process memo."""
    with _guard:
        _known.clear()
