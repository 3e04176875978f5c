"""The public dataset API: ``log_dataset`` and ``load_dataset``.

``log_dataset`` fingerprints the data, stores a snapshot once per digest and logs the version as
an MLflow dataset input of a run (the active tracked run unless one is given), so the MLflow UI
lists it on every run that used it. Logging the same data again costs only its hash. The version
and the input are journaled and land through the sync agent: while the tracking server is down
both queue, and ``log_dataset`` returns the pending version (``name@<digest>``).
``load_dataset`` gives back exactly the data of a version, verified, from any machine that uses
the same tracking server.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidInput, StoreUnavailable
from ..journal import flusher
from ..store.dataset_versions import journal_key
from ..store.gateway import gateway_for
from ..store.reachability import ensure_reachable
from ..store.runs import get_run
from ..workspace import Workspace
from .versions import REGISTER_WAIT_S, DatasetVersion, check_name, load, register, resolve

_CONTEXT = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")

# digest -> prepared description; the expensive part (schema, profile, snapshot) runs once
_described: dict[tuple[str, str, str], DatasetInputRecord] = {}
_guard = threading.Lock()

# answers "which run is being tracked right now?" (a RunRecorder or None); the capture layer,
# which owns tracked runs, registers it when it loads: no run can be active before that
ActiveRunProvider = Callable[[], Any]
_active_run_provider: ActiveRunProvider | None = None


def provide_active_run(provider: ActiveRunProvider | None) -> None:
    """Register the function ``log_dataset`` asks for the active tracked run."""
    global _active_run_provider
    _active_run_provider = provider


def _active_run() -> Any:
    return _active_run_provider() if _active_run_provider is not None else None


@dataclass
class DatasetInputRecord:
    version: DatasetVersion
    schema: dict[str, Any]
    profile: dict[str, Any]
    source: dict[str, Any]

    def as_input(self, context: str | None) -> dict[str, Any]:
        """The dict ``RunRecorder.log_inputs`` takes (MLflow Dataset fields + context). A pending
        version's snapshot URI is filled in by the replayer once the version has landed."""
        version = self.version
        source = {"ref": version.ref, **self.source}
        item = {
            "name": version.name,
            "digest": version.digest,
            "source_type": "mlops_snapshot" if version.file_hash else "mlops",
            "schema": json.dumps(self.schema),
            "profile": json.dumps(self.profile),
            "context": context,
        }
        if version.pending:
            item["dataset_key"] = journal_key(version.name, version.digest)
        else:
            source = {"uri": version.snapshot_uri, **source}
        item["source"] = json.dumps(source)
        return item


def prepare(
    obj: Any,
    name: str | None = None,
    *,
    workspace: Workspace | None = None,
    source: dict[str, Any] | None = None,
    snapshot: bool = True,
    precomputed: tuple[str, dict[str, str]] | None = None,
    wait: float = REGISTER_WAIT_S,
) -> DatasetInputRecord:
    """Fingerprint ``obj`` and register its version (snapshot written once, journaled).

    Data Arrow cannot store is registered without a snapshot. Nothing here needs the tracking
    server: the version lands through the journal; ``wait`` bounds how long this waits for it
    (0: not at all, as a tracked cell's capture does).
    """
    from .fingerprint import fingerprint_frame
    from .profile import as_frame, profile_of, schema_of

    ws = workspace or Workspace.find()
    df = as_frame(obj, name or "value")
    digest, columns = precomputed or fingerprint_frame(df)
    name = check_name(name or f"data-{digest[:8]}")
    key = (ws.tracking_uri, name, digest)
    with _guard:
        known = _described.get(key)
    if known is not None:
        if known.version.pending and wait > 0:
            register(ws, df, name, digest, schema=known.schema, profile=known.profile, wait=wait)
        return known
    schema, profile = schema_of(df), profile_of(df, columns)

    def register_with(snapshot: bool) -> DatasetVersion:
        return register(
            ws,
            df,
            name,
            digest,
            schema=schema,
            profile=profile,
            source=source,
            wait=wait,
            snapshot=snapshot,
        )

    try:
        version = register_with(snapshot)
    except InvalidInput as exc:
        if not snapshot:
            raise
        version = register_with(False)
        if version.file_hash is None:
            version.snapshot_problem = str(exc)
    record = DatasetInputRecord(version, schema, profile, dict(source or {}))
    with _guard:
        _described[key] = record
    return record


def log_dataset(
    obj: Any,
    name: str | None = None,
    context: str | None = None,
    run: Any = None,
    workspace: Workspace | None = None,
) -> DatasetVersion:
    """Store ``obj`` as a dataset version and log it as an input of ``run`` (a RunRecorder or a
    run id; default: the active tracked run, if any). Returns the version (``.ref``, ``.digest``).
    """
    ws = workspace or Workspace.find()
    check_context(context)
    record = prepare(obj, name, workspace=ws)
    item = record.as_input(context)
    if run is None:
        run = _active_run()
    if isinstance(run, str):
        _log_to_run_id(ws, run, item)
    elif run is not None:
        run.log_inputs([item])
    return record.version


def check_context(context: str | None) -> None:
    if context is not None and not _CONTEXT.match(str(context)):
        raise InvalidInput(
            f"{context!r} is not a dataset context",
            hint="use a short word such as training, validation, test or evaluation",
        )


def _log_to_run_id(ws: Workspace, run_id: str, item: dict[str, Any]) -> None:
    """Journal the input on a run made elsewhere (checked first while the server answers)."""

    try:
        ensure_reachable(ws)
    except StoreUnavailable:
        pass  # journaled all the same: it lands with the version
    else:
        run_id = get_run(
            gateway_for(ws), run_id
        ).info.run_id  # NotFound for a run that does not exist
    sink = flusher.sink_for(ws)
    sink.box.append(f"run-{run_id}", "inputs", {"datasets": [item], "run_id": run_id})
    sink.flush_now(time.monotonic() + REGISTER_WAIT_S)


def load_dataset(ref: str, workspace: Workspace | None = None) -> Any:
    """The DataFrame of ``"name"``, ``"name@3"``, ``"name@<digest prefix>"`` or a digest,
    verified against its digest (a corrupted snapshot raises ``IntegrityError``)."""

    gw = gateway_for(workspace or Workspace.find())
    return load(gw, resolve(gw, ref))


def forget_described() -> None:
    with _guard:
        _described.clear()
