"""The journal's record format: one typed structure per record kind, each with a format version.

Every record a process journals (``Outbox.append``) is one of the frozen dataclasses below, and
the replayer (``replay.py``) reads it back with ``decode`` and hands it to the handler of its
kind. Writers (capture's ``RunRecorder``, pipeline runs and the papermill engine through it,
dataset registration, the flusher's git state, the replayer's own closing of a dead process's
runs) and the reader share these classes, so ``make lint`` (mypy strict) checks both sides: a
field renamed or retyped on one side is a type error on the other, and a kind the replayer has no
handler for fails its exhaustive dispatch (``Replayer._send_one``).

On disk a record is its kind (the ``ops.kind`` column) and a JSON object of its fields, plus
``"v"``: the version of its kind's format. Fields equal to their default are left out. A record
without ``"v"`` was written before versions were recorded, and is read as version 1.

The reader refuses, in one line naming the kind and the version, a kind it does not know, a
version newer than the one it reads (a journal written by a newer jupyter-mlops, replayed by an
older agent), or fields that do not match the kind's format. A refused record is set aside in
``failed_ops`` like a record MLflow refused: it never blocks the records after it, and
``jupyter-mlops sync --retry-failed`` puts it back in line once an agent that reads it runs.

Adding a record kind:

1. a frozen dataclass here with ``KIND`` (the name stored in ``ops.kind``, unique) and
   ``VERSION = 1``, decorated with ``@record_kind`` and added to the ``Record`` union;
2. its handler in ``Replayer._send_one`` (mypy fails on the dispatch until there is one); a
   handler made of several calls records each confirmed one in the journal's ``steps`` table
   (``Outbox.record_step``), so that a retry resumes after it;
3. writers call ``box.append(run_key, TheRecord(...))``.

Changing a kind's format: bump its ``VERSION`` and register an upgrade from the previous version
with ``@upgrades(TheRecord, old_version)`` (a function from the old JSON object to the new one),
so that journals already on disk keep landing.
"""

from __future__ import annotations

import dataclasses
import json
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar, Union, get_args, get_origin, get_type_hints

from ..errors import InvalidInput

VERSION_FIELD = "v"
UNVERSIONED = 1  # a record written before the format carried its version

# one metric point: key, value, timestamp (ms since the epoch), step
MetricPoint = tuple[str, float, int, int]

_R = TypeVar("_R")
_KINDS: dict[str, type[Any]] = {}
_UPGRADES: dict[tuple[str, int], Callable[[dict[str, Any]], dict[str, Any]]] = {}
_HINTS: dict[type[Any], dict[str, Any]] = {}


class UnreadableRecord(InvalidInput):
    """A journaled record this version cannot read: set aside, never blocking the ones after it."""


def record_kind(cls: type[_R]) -> type[_R]:
    """Register a record class under its ``KIND`` (one class per kind)."""
    kind = getattr(cls, "KIND", None)
    if not isinstance(kind, str) or not isinstance(getattr(cls, "VERSION", None), int):
        raise TypeError(f"{cls.__name__} needs a KIND (str) and a VERSION (int)")
    if kind in _KINDS and _KINDS[kind] is not cls:
        raise TypeError(f"record kind {kind!r} is taken by {_KINDS[kind].__name__}")
    _KINDS[kind] = cls
    return cls


def upgrades(
    cls: type[Any], version: int
) -> Callable[
    [Callable[[dict[str, Any]], dict[str, Any]]], Callable[[dict[str, Any]], dict[str, Any]]
]:
    """Register how a ``cls`` record of ``version`` becomes one of ``version + 1``."""

    def register(
        upgrade: Callable[[dict[str, Any]], dict[str, Any]],
    ) -> Callable[[dict[str, Any]], dict[str, Any]]:
        _UPGRADES[(cls.KIND, version)] = upgrade
        return upgrade

    return register


# -- the record kinds ----------------------------------------------------------------------------
@record_kind
@dataclass(frozen=True)
class CreateRun:
    """Open a run. A retry finds a run created before by its journal key (``mlops.run_key``)."""

    KIND: ClassVar[str] = "create"
    VERSION: ClassVar[int] = 1
    experiment: str | None = None
    name: str | None = None
    start_time: int | None = None
    tags: dict[str, str] = field(default_factory=dict)
    parent_run_id: str | None = None
    parent_key: str | None = None  # a parent known by its journal key (it may not have landed)


@record_kind
@dataclass(frozen=True)
class LogData:
    """Params, metrics and tags of a run; consecutive ones travel as one ``log_batch``."""

    KIND: ClassVar[str] = "data"
    VERSION: ClassVar[int] = 1
    metrics: list[MetricPoint] = field(default_factory=list)
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    tag_keys: dict[str, str] = field(default_factory=dict)  # tag -> a run's journal key


@record_kind
@dataclass(frozen=True)
class LogText:
    """A text artifact of a run (a cell's source, its environment, a diff...)."""

    KIND: ClassVar[str] = "text"
    VERSION: ClassVar[int] = 1
    text: str
    artifact_file: str


@record_kind
@dataclass(frozen=True)
class LogArtifact:
    """A staged file or folder, uploaded into the run's artifacts (under ``artifact_path``)."""

    KIND: ClassVar[str] = "artifact"
    VERSION: ClassVar[int] = 1
    path: str
    artifact_path: str | None = None


@dataclass(frozen=True)
class DatasetInput:
    """One dataset a run read: MLflow's Dataset fields, plus the context it was read in."""

    name: str
    digest: str
    source_type: str = "local"
    source: str = "{}"
    schema: str | None = None
    profile: str | None = None
    context: str | None = None
    dataset_key: str | None = None  # a version registered but not landed yet (its journal key)


@record_kind
@dataclass(frozen=True)
class LogInputs:
    """Datasets a run read; ``run_id`` names a run made elsewhere (not this journal's)."""

    KIND: ClassVar[str] = "inputs"
    VERSION: ClassVar[int] = 1
    datasets: list[DatasetInput]
    run_id: str | None = None


@record_kind
@dataclass(frozen=True)
class RegisterDataset:
    """A dataset version: landed once per (name, digest), whichever machines registered it."""

    KIND: ClassVar[str] = "dataset"
    VERSION: ClassVar[int] = 1
    name: str
    digest: str
    token: str  # tells this registration's run from a rival's
    tags: dict[str, str] = field(default_factory=dict)
    schema: str = "{}"
    profile: str = "{}"
    source: dict[str, Any] = field(default_factory=dict)
    snapshot: str | None = None  # the staged Arrow snapshot
    file_hash: str | None = None


@record_kind
@dataclass(frozen=True)
class LogModel:
    """A model staged by the kernel (``path``, or a pickled ``estimator`` to build it from)."""

    KIND: ClassVar[str] = "model"
    VERSION: ClassVar[int] = 1
    path: str
    name: str
    model_key: str  # the logged model's ``mlops.model_key`` tag: a retry finds it by this
    estimator: str | None = None
    requirements: list[str] = field(default_factory=list)


@record_kind
@dataclass(frozen=True)
class EndRun:
    KIND: ClassVar[str] = "end"
    VERSION: ClassVar[int] = 1
    status: str
    end_time: int | None = None


@record_kind
@dataclass(frozen=True)
class AnnounceEvent:
    """An event for the webhook receivers (``events.emit``; its fields are
    ``event_record.Event``'s): the replay hands it to the delivery queue when its turn comes, so
    it goes out after what was journaled before it has landed."""

    KIND: ClassVar[str] = "event"
    VERSION: ClassVar[int] = 1
    id: str
    kind: str
    project: str
    ts: float
    model: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    actor: str | None = None


Record = (
    CreateRun
    | LogData
    | LogText
    | LogArtifact
    | LogInputs
    | RegisterDataset
    | LogModel
    | EndRun
    | AnnounceEvent
)


# -- on disk -------------------------------------------------------------------------------------
def encode(record: Record) -> str:
    """The JSON a record is journaled as (its fields minus defaults, plus its format version)."""
    data = {VERSION_FIELD: record.VERSION, **_plain_fields(record)}
    return json.dumps(data, separators=(",", ":"), allow_nan=False)


def decode(kind: str, payload: str) -> Record:
    """The record a journal row holds; ``UnreadableRecord`` when this version cannot read it."""
    cls = _KINDS.get(kind)
    if cls is None:
        raise UnreadableRecord(
            f"journal record of unknown kind {kind!r}",
            hint="written by a newer jupyter-mlops? update it, then `jupyter-mlops sync --retry-failed`",
        )
    try:
        data = json.loads(payload)
    except ValueError as exc:
        raise UnreadableRecord(f"{kind} record is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise UnreadableRecord(f"{kind} record is not a JSON object")
    version = data.pop(VERSION_FIELD, UNVERSIONED)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise UnreadableRecord(f"{kind} record has no valid format version: {version!r}")
    if version > cls.VERSION:
        raise UnreadableRecord(
            f"{kind} record of format version {version}; this jupyter-mlops reads up to "
            f"version {cls.VERSION}",
            hint="update jupyter-mlops where the sync agent runs, then "
            "`jupyter-mlops sync --retry-failed`",
        )
    while version < cls.VERSION:
        upgrade = _UPGRADES.get((kind, version))
        if upgrade is None:
            raise UnreadableRecord(f"{kind} record of format version {version} cannot be read")
        data = upgrade(data)
        version += 1
    record: Record = _build(cls, data, f"{kind} record v{version}")
    return record


def _plain_fields(obj: Any) -> dict[str, Any]:
    out = {}
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        if default is not dataclasses.MISSING and value == default:
            continue
        out[f.name] = _plain(value)
    return out


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _plain_fields(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _hints(cls: type[Any]) -> dict[str, Any]:
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = get_type_hints(cls)
    return hints


def _build(cls: type[Any], data: Any, where: str) -> Any:
    if not isinstance(data, dict):
        raise UnreadableRecord(f"{where}: expected an object, found {type(data).__name__}")
    hints = _hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise UnreadableRecord(f"{where}: unknown field(s) {', '.join(map(repr, unknown))}")
    values = {}
    for f in dataclasses.fields(cls):
        if f.name in data:
            values[f.name] = _convert(data[f.name], hints[f.name], f"{where}: {f.name}")
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise UnreadableRecord(f"{where}: field {f.name!r} is missing")
    return cls(**values)


def _convert(value: Any, hint: Any, where: str) -> Any:
    """``value`` as read from JSON, checked against (and shaped into) the annotation ``hint``."""
    if hint is Any:
        return value
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        options = get_args(hint)
        if value is None and type(None) in options:
            return None
        for option in options:
            if option is type(None):
                continue
            try:
                return _convert(value, option, where)
            except UnreadableRecord:
                continue
        raise _wrong(where, hint, value)
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, where)  # type: ignore[arg-type]
    if origin is list:
        if not isinstance(value, list):
            raise _wrong(where, hint, value)
        (item,) = get_args(hint)
        return [_convert(v, item, where) for v in value]
    if origin is tuple:
        items = get_args(hint)
        if not isinstance(value, (list, tuple)) or len(value) != len(items):
            raise _wrong(where, hint, value)
        return tuple(_convert(v, t, where) for v, t in zip(value, items, strict=True))
    if origin is dict:
        key_type, value_type = get_args(hint)
        if not isinstance(value, dict):
            raise _wrong(where, hint, value)
        return {
            _convert(k, key_type, where): _convert(v, value_type, where) for k, v in value.items()
        }
    return _scalar(value, hint, where)


def _scalar(value: Any, hint: Any, where: str) -> Any:
    if hint is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if hint is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if hint in (str, bool) and isinstance(value, hint):
        return value
    if hint is type(None) and value is None:
        return None
    raise _wrong(where, hint, value)


def _wrong(where: str, hint: Any, value: Any) -> UnreadableRecord:
    expected = getattr(hint, "__name__", None) or str(hint)
    return UnreadableRecord(f"{where}: expected {expected}, found {json.dumps(value)[:80]}")
