"""The public dataset API: ``log_dataset`` and ``load_dataset``.

``log_dataset`` fingerprints the data, stores a snapshot once per digest and logs the version as
an MLflow dataset input of a run (the active tracked run unless one is given), so the MLflow UI
lists it on every run that used it. Logging the same data again costs only its hash.
``load_dataset`` gives back exactly the data of a version, verified, from any machine that uses
the same tracking server.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidInput, MlopsError
from ..workspace import Workspace
from .registry import DatasetVersion

_CONTEXT = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")

# digest -> prepared description; the expensive part (schema, profile, snapshot) runs once
_described: dict[tuple[str, str, str], DatasetInputRecord] = {}
_guard = threading.Lock()


@dataclass
class DatasetInputRecord:
    version: DatasetVersion
    schema: dict[str, Any]
    profile: dict[str, Any]
    source: dict[str, Any]

    def as_input(self, context: str | None) -> dict[str, Any]:
        """The dict ``RunRecorder.log_inputs`` takes (MLflow Dataset fields + context)."""
        source = {"uri": self.version.snapshot_uri, "ref": self.version.ref, **self.source}
        return {
            "name": self.version.name,
            "digest": self.version.digest,
            "source_type": "mlops_snapshot" if self.version.file_hash else "mlops",
            "source": json.dumps(source),
            "schema": json.dumps(self.schema),
            "profile": json.dumps(self.profile),
            "context": context,
        }


def prepare(
    obj: Any,
    name: str | None = None,
    *,
    workspace: Workspace | None = None,
    source: dict[str, Any] | None = None,
    snapshot: bool = True,
    precomputed: tuple[str, dict[str, str]] | None = None,
) -> DatasetInputRecord:
    """Fingerprint ``obj`` and make sure its version is registered (snapshot written once).

    Data Arrow cannot store is registered without a snapshot; a store that cannot be reached
    leaves the version unregistered (the input is still logged through the outbox) rather than
    failing the cell that read it.
    """
    from .fingerprint import fingerprint_frame
    from .profile import as_frame, profile_of, schema_of
    from .registry import check_name, register

    ws = workspace or Workspace.find()
    df = as_frame(obj, name or "value")
    digest, columns = precomputed or fingerprint_frame(df)
    name = check_name(name or f"data-{digest[:8]}")
    key = (ws.tracking_uri, name, digest)
    with _guard:
        known = _described.get(key)
    if known is not None:
        return known
    stored = _stored_description(ws, digest)  # another process logged it: reuse, don't recompute
    schema, profile = stored or (schema_of(df), profile_of(df, columns))
    try:
        version = register(
            ws, df, name, digest, schema=schema, profile=profile, source=source, snapshot=snapshot
        )
    except InvalidInput as exc:
        if not snapshot:
            raise
        version = register(
            ws, df, name, digest, schema=schema, profile=profile, source=source, snapshot=False
        )
        if version.file_hash is None:
            version.snapshot_problem = str(exc)
    except MlopsError:
        raise
    except Exception as exc:  # store unreachable: keep the input, register on a later log
        version = DatasetVersion(
            name=name,
            digest=digest,
            run_id="",
            rows=len(df),
            columns=len(df.columns),
            source={"unregistered": str(exc)[:200]},
        )
        return DatasetInputRecord(version, schema, profile, dict(source or {}))
    record = DatasetInputRecord(version, schema, profile, dict(source or {}))
    with _guard:
        _described[key] = record
    return record


def _stored_description(ws: Workspace, digest: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """Schema and profile recorded with an already registered version of ``digest``, if any."""
    from ..store.client import client_for
    from .registry import find_by_digest

    try:
        found = find_by_digest(ws, digest)
        if not found:
            return None
        run = client_for(ws).get_run(found[0].run_id)
    except MlopsError:
        raise
    except Exception:  # store unreachable: compute locally instead
        return None
    for di in run.inputs.dataset_inputs if run.inputs else []:
        if di.dataset.digest == digest and di.dataset.schema and di.dataset.profile:
            try:
                return json.loads(di.dataset.schema), json.loads(di.dataset.profile)
            except ValueError:
                return None
    return None


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
        from ..capture.tracker import active_run

        run = active_run()
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
    from mlflow.entities import Dataset, DatasetInput, InputTag

    from ..store.client import client_for
    from ..store.runs import get_run

    run = get_run(ws, run_id)
    ds = Dataset(
        name=item["name"],
        digest=item["digest"],
        source_type=item["source_type"],
        source=item["source"],
        schema=item["schema"],
        profile=item["profile"],
    )
    tags = [InputTag("mlflow.data.context", item["context"])] if item.get("context") else []
    client_for(ws).log_inputs(run.info.run_id, datasets=[DatasetInput(ds, tags)])


def load_dataset(ref: str, workspace: Workspace | None = None) -> Any:
    """The DataFrame of ``"name"``, ``"name@3"``, ``"name@<digest prefix>"`` or a digest,
    verified against its digest (a corrupted snapshot raises ``IntegrityError``)."""
    from .registry import load, resolve

    ws = workspace or Workspace.find()
    return load(ws, resolve(ws, ref))


def forget_described() -> None:
    with _guard:
        _described.clear()
