"""Dataset versions kept in MLflow itself, so anyone on the same tracking server can load them.

Each (name, digest) pair is one run of kind ``dataset`` in the experiment ``mlops-datasets``; the
first run of a digest holds the snapshot file as its artifact ``snapshot/<digest>.arrow`` and
logs the dataset as its own MLflow input (so the MLflow UI lists it). Registering only writes the
snapshot locally and journals the version, like a tracked run's records: the sync agent lands it
(``store.dataset_versions``: one version per name and digest across machines), so registering
works while the tracking server is down. Version numbers are not
stored: ``name@3`` is the third digest registered under ``name``, ordered by registration time,
which leaves no counter to race on. A bare digest (or an unambiguous prefix of 6+ hex digits)
names a version too.
"""

from __future__ import annotations

import json
import re
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..durable import replace_durably, sync_file
from ..errors import InvalidInput, NotFound, StoreUnavailable
from ..journal import flusher
from ..limits import LIST_TEXT
from ..store.dataset_versions import (
    EXPERIMENT,
    KIND,
    SNAPSHOT_DIR,
    T_COLS,
    T_DIGEST,
    T_FILE_HASH,
    T_FORMAT,
    T_NAME,
    T_ROWS,
    T_SNAPSHOT_RUN,
    T_SOURCE,
    journal_key,
    snapshot_uri,
)
from ..store.reachability import ensure_reachable
from ..tags import KIND_TAG
from ..workspace import Workspace
from .snapshots import FORMAT, SnapshotFile, cache_path, read_snapshot, write_snapshot

if TYPE_CHECKING:
    from ..store.gateway import Gateway

__all__ = ["EXPERIMENT", "KIND", "T_DIGEST", "T_NAME", "T_SOURCE", "DatasetVersion"]
_HEX = re.compile(r"^[0-9a-f]{6,32}$")
_NAME = re.compile(r"^[A-Za-z0-9_.\-/ ]{1,200}$")

_known: dict[tuple[str, str, str], DatasetVersion] = {}
_guard = threading.Lock()
REGISTER_WAIT_S = 30.0  # longest a registration waits for its version to land while MLflow answers


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
        queued = ", queued until the tracking server answers" if self.pending else ""
        return f"<dataset version {self.ref} digest {self.digest[:12]}{shape}{queued}>"

    @property
    def pending(self) -> bool:
        """Journaled, not yet in MLflow (the tracking server did not answer)."""
        return not self.run_id

    @property
    def snapshot_uri(self) -> str:
        return snapshot_uri(self.snapshot_run or self.run_id, self.digest)


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


def _search(gw: Gateway, filter_string: str, max_results: int = 1000) -> list[Any]:
    exp = gw.experiment_id(EXPERIMENT, create=False)
    if exp is None:
        return []
    client = gw.client
    flt = f"tags.`{KIND_TAG}` = '{KIND}'" + (f" AND {filter_string}" if filter_string else "")
    return list(
        client.search_runs(
            [exp],
            filter_string=flt,
            order_by=["attributes.start_time ASC"],
            max_results=max_results,
        )
    )


def list_versions(gw: Gateway, name: str | None = None) -> list[DatasetVersion]:
    """Every registered version (of ``name``), oldest first, numbered per name."""
    flt = f"tags.`{T_NAME}` = '{check_name(name)}'" if name else ""
    found = sorted(_search(gw, flt), key=lambda r: (r.info.start_time or 0, r.info.run_id))
    versions, seen = [], set()
    for v in map(_from_run, found):  # a rival's duplicate run, still being deleted, is no version
        if (v.name, v.digest) not in seen:
            seen.add((v.name, v.digest))
            versions.append(v)
    counters: dict[str, int] = {}
    for v in versions:
        counters[v.name] = counters.get(v.name, 0) + 1
        v.version = counters[v.name]
    return versions


def find_by_digest(gw: Gateway, digest: str) -> list[DatasetVersion]:
    if len(digest) == 32:
        runs = _search(gw, f"tags.`{T_DIGEST}` = '{digest}'")
    else:
        runs = _search(gw, f"tags.`{T_DIGEST}` LIKE '{digest}%'")
    return [_from_run(r) for r in runs]


def resolve(gw: Gateway, ref: str) -> DatasetVersion:
    """``name``, ``name@N``, ``name@latest``, ``name@<digest prefix>`` or a digest (prefix)."""
    if not isinstance(ref, str) or not ref.strip():
        raise InvalidInput(
            f"{ref!r} is not a dataset reference", hint="use NAME@VERSION or a digest"
        )
    ref = ref.strip()
    name, _, version = ref.partition("@")
    if not version and _HEX.match(ref):
        found = find_by_digest(gw, ref)
        digests = {v.digest for v in found}
        if len(digests) > 1:
            raise InvalidInput(
                f"digest prefix {ref!r} matches {len(digests)} dataset versions",
                hint="give more digits of the digest",
            )
        if found:
            # the digest's numbered version among every version of its name (not only the last)
            versions = list_versions(gw, found[0].name)
            match = next((v for v in versions if v.digest == found[0].digest), found[0])
            return _with_snapshot(match, found)
        if len(ref) != 32:
            raise NotFound(
                f"no dataset version with digest {ref!r}",
                hint="list versions with `%mlops datasets` or `jupyter-mlops datasets`",
            )
        return DatasetVersion(name=ref[:8], digest=ref, run_id="")  # maybe only in the local cache
    versions = list_versions(gw, name)
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
    wait: float = REGISTER_WAIT_S,
) -> DatasetVersion:
    """Register ``df`` (already fingerprinted) as a version of ``name``: once per (name, digest).

    The snapshot is written locally and the registration journaled, like a tracked run's
    records; the sync agent lands it (one version per name and digest, whichever machines
    registered it). This waits up to ``wait`` seconds for that, but no longer once MLflow is
    said not to answer: the version then comes back pending (``run_id`` empty, ``ref``
    ``name@<digest>``) and lands when the server is back.
    """
    check_name(name)
    key = (ws.tracking_uri, name, digest)
    with _guard:
        version = _known.get(key)
    if version is None:
        snap = write_snapshot(cache_folder(ws), df, digest) if snapshot else None
        version = _journal(ws, df, name, digest, schema, profile, source or {}, snap)
        with _guard:
            version = _known.setdefault(key, version)
    if not version.run_id and wait > 0 and _answers(ws):
        landed = flusher.sink_for(ws).await_dataset(
            journal_key(name, digest), time.monotonic() + wait
        )
        if landed is not None:
            version.run_id, version.snapshot_run, version.file_hash = landed
            version.snapshot_run = version.snapshot_run or None
    return version


def _answers(ws: Workspace) -> bool:
    """A connection probe (milliseconds): no waiting on the agent for a server that is gone."""
    try:
        ensure_reachable(ws)
    except StoreUnavailable:
        return False
    return True


def _journal(
    ws: Workspace,
    df: Any,
    name: str,
    digest: str,
    schema: dict[str, Any],
    profile: dict[str, Any],
    source: dict[str, Any],
    snap: SnapshotFile | None,
) -> DatasetVersion:
    """One ``dataset`` record in the process's journal (its snapshot staged beside it)."""

    box = flusher.sink_for(ws).box
    jkey = journal_key(name, digest)
    staged = box.stage_blob(jkey, snap.path, snap.path.name, link=True) if snap else None
    tags = {
        T_ROWS: str(len(df)),
        T_COLS: str(len(df.columns)),
        T_FORMAT: FORMAT,
        T_SOURCE: json.dumps(source)[:LIST_TEXT],
    }
    box.append(
        jkey,
        "dataset",
        {
            "name": name,
            "digest": digest,
            "token": uuid.uuid4().hex,
            "tags": tags,
            "schema": json.dumps(schema),
            "profile": json.dumps(profile),
            "source": source,
            "snapshot": str(staged) if staged else None,
            "file_hash": snap.file_hash if snap else None,
        },
    )
    flusher.sink_for(ws).kick()
    return DatasetVersion(
        name=name,
        digest=digest,
        run_id="",
        created=int(time.time() * 1000),
        rows=len(df),
        columns=len(df.columns),
        file_hash=snap.file_hash if snap else None,
        source=source,
    )


def load(gw: Gateway, version: DatasetVersion) -> Any:
    """The verified DataFrame of ``version``, from the local cache or else the tracking server."""
    local = cache_path(cache_folder(gw.ws), version.digest)
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
        _download(gw, version, local)
    return read_snapshot(local, version.digest, version.file_hash)


def _download(gw: Gateway, version: DatasetVersion, local: Path) -> None:
    from mlflow.exceptions import MlflowException

    client = gw.client
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
