"""Replays outbox journals to MLflow, in order, exactly once (``recovery`` lands dead processes').

Every op is made of idempotent steps, so any of them can be retried after any failure, including
a lost answer (the server did the work, the reply never came):

- ``create``: a run carries its journal key in a tag; a retry searches for it before creating.
- ``data`` (params, metrics, tags in one ``log_batch``): params and tags are idempotent; a retried
  item's metrics are looked up in the run's history before they are sent again. A tag may name
  another run by its journal key (``tag_keys``: a build step's upstream run recorded offline);
  its run id is filled in here, as a child's parent is.
- ``text`` and ``artifact``: uploads overwrite, so they are simply repeated. A staged file is
  deleted only after its op left the journal, so a retry always finds it.
- ``inputs``: MLflow itself links a dataset to a run at most once.
- ``dataset``: a dataset version, searched by its name and digest before it is created, so one
  version lands per (name, digest) whichever machines registered it (``dataset_versions``).
- ``model``: create the logged model (found by its ``mlops.model_key`` tag before creating again),
  link it to the run (unless the run's outputs already list it), upload, finalize, tag. Each step
  is recorded in the journal's ``steps`` table as MLflow confirms it; a retry resumes after it.
- ``end``: setting a run's status twice is harmless.

MLflow's own HTTP retries are turned off wherever this replays: a POST whose reply was lost must
come back here to be checked, not be re-sent blindly. Failures are sorted by ``faults.classify``:
an unreachable server stops the flush and keeps everything (backoff, retry later); a record MLflow
refuses moves to ``failed_ops`` with the reason, so one bad record never blocks later ones.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import shutil
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import unquote, urlparse

from ..store import dataset_versions
from ..store.client import client_for, experiment_id
from ..store.logged_models import build_model, upload_staged_model
from ..tags import RUN_KEY_TAG
from ..workspace import Workspace
from .deliveries import announce_run_end, hand_over
from .faults import classify, gives_up
from .outbox import OpRow, Outbox
from .pausing import StopMark
from .records import (
    AnnounceEvent,
    CreateRun,
    DatasetInput,
    EndRun,
    LogArtifact,
    LogData,
    LogInputs,
    LogModel,
    LogText,
    Record,
    RegisterDataset,
    UnreadableRecord,
    decode,
)

log = logging.getLogger("jupyter_mlops")

MAX_METRICS, MAX_PARAMS, MAX_TAGS = 1000, 100, 100
SENT = "sent"  # the step of a batched record (its part of a log_batch, its text file)
LARGE = (LogModel, LogArtifact, RegisterDataset)  # kept for later while a tracked cell computes


@dataclass
class FlushResult:
    sent: int = 0
    failed: int = 0
    pending: int = 0
    error: str | None = None
    failures: list[str] = field(default_factory=list)
    steps: int = 0  # steps of unfinished records MLflow confirmed: progress short of a record
    deferred: bool = False  # large records left for later (a tracked cell computes)

    def add(self, other: FlushResult) -> None:
        self.sent += other.sent
        self.failed += other.failed
        self.pending += other.pending
        self.steps += other.steps
        self.deferred = self.deferred or other.deferred
        self.failures += other.failures
        self.error = self.error or other.error


class ParentNotLanded(Exception):
    """A child run names a parent that another journal has not landed yet: retry after it."""


def _journaled_elsewhere(ws: Workspace, run_key: str, own: Path) -> bool:
    folder = ws.state_dir / "outbox"
    for db in sorted(folder.glob("*.db")) if folder.is_dir() else []:
        if db == own:
            continue
        try:
            con = sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True, timeout=5)
            try:
                if con.execute("SELECT 1 FROM runs WHERE run_key = ?", (run_key,)).fetchone():
                    return True
            finally:
                con.close()
        except sqlite3.Error:
            continue
    return False


def turn_off_mlflow_retries(ws: Workspace) -> None:
    """The journal is the only retry: MLflow's would re-send a POST whose answer was lost."""
    if ws.tracking_uri.startswith(("http://", "https://")):
        os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "0"
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "10")


def _describe(exc: BaseException) -> str:
    text = getattr(exc, "message", None) or str(exc)
    return f"{type(exc).__name__}: {text}"[:2000]


class Replayer:
    def __init__(
        self, ws: Workspace, box: Outbox, client: Any = None, stoppable: StopMark | None = None
    ) -> None:
        self.ws = ws
        self.box = box
        self.client = client  # None: the workspace's MlflowClient (tests pass a faulty one)
        # the agent's mark: a model's build (local files only) may be stopped for a cell
        self.stoppable = stoppable or StopMark()
        self._lock = threading.Lock()
        self._isolating = False  # after a refused batch, send records singly to find the bad one
        turn_off_mlflow_retries(ws)

    # -- public -------------------------------------------------------------------------------
    def flush(
        self,
        deadline: float | None = None,
        *,
        hold_large: Callable[[], bool] | None = None,
        hold_all: Callable[[], bool] | None = None,
    ) -> FlushResult:
        """Send everything pending (until ``deadline``, a time.monotonic() value); stop at a
        large record (a model, a file, a dataset version) while ``hold_large()`` says so, and
        at any record while ``hold_all()`` does."""
        result = FlushResult()
        with self._lock:
            steps_before = self.box.steps_recorded
            con = self.box.conn
            while deadline is None or time.monotonic() < deadline:
                rows = con.execute(
                    "SELECT seq, run_key, kind, payload, attempts FROM ops ORDER BY seq LIMIT 200"
                ).fetchall()
                if not rows:
                    break
                group = self._next_group(rows, result)
                if not group:
                    continue  # the first record was unreadable: set aside, read on
                if (isinstance(group[0].record, LARGE) and hold_large and hold_large()) or (
                    hold_all and hold_all()
                ):
                    result.deferred = True  # in order: what follows it waits with it
                    break
                if len(group) > 1 and self._isolating:
                    group = group[:1]
                self._mark_attempt(group)
                try:
                    staged = self._send(group)
                except Exception as exc:
                    fault = classify(exc)
                    if not gives_up(fault, 1 + max(e.attempts for e in group)):
                        result.error = _describe(exc)
                        break
                    if len(group) > 1:  # find the bad record: resend one by one
                        self._isolating = True
                        continue
                    self._fail(group, exc)
                    result.failed += 1
                    result.failures.append(f"{group[0].record.KIND}: {exc}")
                    continue
                self.box.delete_ops([e.seq for e in group])
                for path in staged:  # only now: a retry of the op would still need it
                    _drop_staged(path)
                result.sent += len(group)
            self._isolating = False
            result.pending = self.box.pending()
            result.steps = self.box.steps_recorded - steps_before
        return result

    # -- internals ----------------------------------------------------------------------------
    def _next_group(self, rows: list[OpRow], result: FlushResult) -> list[Entry]:
        """The next records to send, typed: consecutive data and text records of one run travel
        together (one log_batch, within MLflow's limits), any other record alone. A record this
        version cannot read is set aside (``failed_ops``, with the reason) without holding up
        the ones after it."""
        group: list[Entry] = []
        n_m, n_p, n_t = 0, 0, 0
        for row in rows:
            try:
                record = decode(row[2], row[3])
            except UnreadableRecord as exc:
                if not group:
                    log.warning("jupyter-mlops: journal record %s set aside: %s", row[0], exc)
                    self.box.move_to_failed([row], _describe(exc))
                    result.failed += 1
                    result.failures.append(f"{row[2]}: {exc}")
                break  # send what came before it first, in order
            entry = Entry(row[0], row[1], record, row[4], row)
            if not group:
                group.append(entry)
                if not isinstance(record, (LogData, LogText)):
                    break
            elif not isinstance(record, (LogData, LogText)) or entry.run_key != group[0].run_key:
                break
            else:
                group.append(entry)
            if isinstance(record, LogData):
                n_m += len(record.metrics)
                n_p += len(record.params)
                n_t += len(record.tags) + len(record.tag_keys)
                if len(group) > 1 and (n_m > MAX_METRICS or n_p > MAX_PARAMS or n_t > MAX_TAGS):
                    group.pop()
                    break
        return group

    def _fail(self, group: list[Entry], exc: Exception) -> None:
        reason = _describe(exc)
        log.warning("jupyter-mlops: MLflow refused a %s record: %s", group[0].record.KIND, reason)
        self.box.move_to_failed([e.row for e in group], reason)

    def _mark_attempt(self, group: list[Entry]) -> None:
        self.box.conn.execute(
            f"UPDATE ops SET attempts = attempts + 1 WHERE seq IN ({','.join('?' * len(group))})",
            [e.seq for e in group],
        )

    def _run_id(self, run_key: str) -> str:
        run_id = self.box.run_id(run_key)
        if run_id is None:
            raise KeyError(f"run {run_key} was never created")
        return run_id

    def _send(self, group: list[Entry]) -> list[Path]:
        """Send one group; returns the staged files to delete once the group left the journal.

        A batch of data and text records is sent a step per record: their params, metrics and
        tags in one log_batch, then each text file; each confirmed step is recorded, so a retry
        sends only what is not confirmed yet."""
        if len(group) > 1 or isinstance(group[0].record, (LogData, LogText)):
            run_key = group[0].run_key
            done = self.box.steps_of([e.seq for e in group])
            data = [
                (e.seq, e.record, e.attempts)
                for e in group
                if isinstance(e.record, LogData) and SENT not in done[e.seq]
            ]
            if data:
                self._op_data(run_key, [(record, attempts) for _, record, attempts in data])
                for seq, _, _ in data:
                    self.box.record_step(seq, SENT)
            texts = [e for e in group if isinstance(e.record, LogText) and SENT not in done[e.seq]]
            if texts:
                self._op_texts(run_key, texts)
            return []
        return self._send_one(group[0])

    def _send_one(self, entry: Entry) -> list[Path]:
        """The handler of each record kind (mypy checks that every kind has one)."""
        record, seq, key, attempts = entry.record, entry.seq, entry.run_key, entry.attempts
        if isinstance(record, CreateRun):
            self._op_create(key, record, attempts)
        elif isinstance(record, LogArtifact):
            return self._op_artifact(seq, key, record)
        elif isinstance(record, LogInputs):
            self._op_inputs(key, record)
        elif isinstance(record, RegisterDataset):
            return self._op_dataset(seq, key, record)
        elif isinstance(record, LogModel):
            return self._op_model(seq, key, record, attempts)
        elif isinstance(record, EndRun):
            self._op_end(key, record)
        elif isinstance(record, AnnounceEvent):
            self._op_event(record)
        elif isinstance(record, (LogData, LogText)):
            return self._send([entry])
        else:
            _unhandled(record)
        return []

    # -- op handlers: each step safe to repeat -----------------------------------------------------
    def _client(self) -> Any:
        return self.client if self.client is not None else client_for(self.ws)

    def _op_create(self, run_key: str, record: CreateRun, attempts: int) -> None:
        client = self._client()
        exp_id = experiment_id(self.ws, record.experiment, client=client)
        tags = dict(record.tags)
        tags[RUN_KEY_TAG] = run_key
        parent = record.parent_run_id or self._resolve_parent(record.parent_key)
        if parent:
            tags["mlflow.parentRunId"] = parent
        run = None
        if attempts:  # sent before, answer perhaps lost: look before creating twice
            found = client.search_runs(
                [exp_id], filter_string=f"tags.`{RUN_KEY_TAG}` = '{run_key}'"
            )
            run = found[0] if found else None
        if run is None:
            run = client.create_run(
                exp_id, start_time=record.start_time, tags=tags, run_name=record.name
            )
        self.box.conn.execute(
            "UPDATE runs SET run_id = ?, experiment_id = ?, artifact_uri = ? WHERE run_key = ?",
            (run.info.run_id, exp_id, run.info.artifact_uri, run_key),
        )

    def _resolve_parent(self, parent_key: str | None) -> str | None:
        if not parent_key:
            return None
        local = self.box.run_id(parent_key)
        if local:
            return local
        client = self._client()
        exps = [e.experiment_id for e in client.search_experiments()]
        found = client.search_runs(exps, filter_string=f"tags.`{RUN_KEY_TAG}` = '{parent_key}'")
        if found:
            return str(found[0].info.run_id)
        if _journaled_elsewhere(self.ws, parent_key, self.box.path):
            raise ParentNotLanded(f"parent run {parent_key[:8]} is still queued in another journal")
        return None  # its journal is gone: the child lands without the link

    def _op_data(self, run_key: str, items: list[tuple[LogData, int]]) -> None:
        from mlflow.entities import Metric, Param, RunTag

        client = self._client()
        run_id = self._run_id(run_key)
        metrics: list[Metric] = []
        params: dict[str, str] = {}
        tags: dict[str, str] = {}
        for data, attempts in items:
            batch = [Metric(k, v, ts, step) for k, v, ts, step in data.metrics]
            if batch and attempts and self._landed(client, run_id, batch[0]):
                batch = []  # one log_batch carried the item: its first metric tells for all
            metrics.extend(batch)
            for key, value in data.params.items():
                if params.get(key, value) != value:  # MLflow refuses a changed param: isolate it
                    raise ValueError(f"param {key!r} logged twice with different values")
                params[key] = value
            tags.update(data.tags)
            for tag, key in data.tag_keys.items():  # runs named by journal key
                linked = self._resolve_parent(key)
                if linked:
                    tags[tag] = linked
        client.log_batch(
            run_id,
            metrics=metrics,
            params=[Param(k, v) for k, v in params.items()],
            tags=[RunTag(k, v) for k, v in tags.items()],
        )

    def _landed(self, client: Any, run_id: str, metric: Any) -> bool:
        history = client.get_metric_history(run_id, metric.key)
        return any(
            h.timestamp == metric.timestamp
            and h.step == metric.step
            and (h.value == metric.value or (math.isnan(h.value) and math.isnan(metric.value)))
            for h in history
        )

    def _local_artifact_root(self, run_key: str) -> Path | None:
        """The run's artifact folder when it is on this machine's file system (embedded store)."""

        row = self.box.conn.execute(
            "SELECT artifact_uri FROM runs WHERE run_key = ?", (run_key,)
        ).fetchone()
        uri = row[0] if row else None
        if not uri:
            return None
        parsed = urlparse(uri)
        if parsed.scheme not in ("", "file") or parsed.netloc not in ("", "localhost"):
            return None
        return Path(unquote(parsed.path))

    def _op_texts(self, run_key: str, texts: list[Entry]) -> None:
        """Text artifacts: written in place for a local store, else uploaded one file a step."""
        root = self._local_artifact_root(run_key)
        if root is not None:  # MLflow's own local repository copies files; skip its get_run too
            for entry in texts:
                item = _text(entry)
                path = _inside(root.resolve(), item.artifact_file)
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_name(f".{path.name}.tmp")
                tmp.write_text(item.text, encoding="utf-8")
                tmp.replace(path)
            return
        client = self._client()
        run_id = self._run_id(run_key)
        for entry in texts:
            item = _text(entry)
            with tempfile.TemporaryDirectory() as folder:
                path = _inside(Path(folder).resolve(), item.artifact_file)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(item.text, encoding="utf-8")
                parent = str(Path(item.artifact_file).parent)
                client.log_artifact(run_id, str(path), None if parent == "." else parent)
            self.box.record_step(entry.seq, SENT)

    def _op_artifact(self, seq: int, run_key: str, record: LogArtifact) -> list[Path]:
        """A staged file, or a folder uploaded a file a step (a retry sends the rest)."""
        client = self._client()
        run_id = self._run_id(run_key)
        path = Path(record.path)
        if not path.is_dir():
            client.log_artifact(run_id, str(path), record.artifact_path)
            return [path]
        done = self.box.steps(seq)
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            rel = file.relative_to(path)
            step = f"file:{rel.as_posix()}"
            if step in done:
                continue
            parts = [p for p in (record.artifact_path, rel.parent.as_posix()) if p and p != "."]
            client.log_artifact(run_id, str(file), "/".join(parts) or None)
            self.box.record_step(seq, step)
        return [path]

    def _op_dataset(self, seq: int, run_key: str, record: RegisterDataset) -> list[Path]:
        """A dataset version: created once per (name, digest) across machines (see
        ``dataset_versions``); the version's run is kept in the journal for its registrant."""
        landed = dataset_versions.land(
            self.ws,
            self._client(),
            record,
            done=self.box.steps(seq),
            record_step=lambda step: self.box.record_step(seq, step),
        )
        self.box.record_dataset(run_key, landed.run_id, landed.snapshot_run, landed.file_hash)
        return [Path(record.snapshot).parent] if record.snapshot else []

    def _dataset_source(self, item: DatasetInput) -> str:
        """An input's source, with the snapshot's ``runs:/`` URI of a version registered while
        its run id was unknown (journaled in the same breath, landed just before)."""
        key = item.dataset_key
        if not key:
            return item.source
        landed = self.box.dataset(key)
        if landed is not None:
            run_id, snapshot_run = landed[0], landed[1]
        else:  # landed from another journal, or set aside: ask the store
            found = dataset_versions.find(self.ws, self._client(), item.name, item.digest)
            if found is None:
                return item.source
            run_id, snapshot_run = found.run_id, found.snapshot_run
        fields = json.loads(item.source)
        uri = dataset_versions.snapshot_uri(snapshot_run or run_id, item.digest)
        return json.dumps({"uri": uri, **fields})

    def _op_inputs(self, run_key: str, record: LogInputs) -> None:
        from mlflow.entities import Dataset, InputTag
        from mlflow.entities import DatasetInput as MlflowDatasetInput

        client = self._client()
        run_id = record.run_id or self._run_id(run_key)  # a run id: a run made elsewhere
        inputs = []
        for d in record.datasets:
            ds = Dataset(
                name=d.name,
                digest=d.digest,
                source_type=d.source_type,
                source=self._dataset_source(d),
                schema=d.schema,
                profile=d.profile,
            )
            tags = [InputTag("mlflow.data.context", d.context)] if d.context else []
            inputs.append(MlflowDatasetInput(ds, tags))
        client.log_inputs(run_id, datasets=inputs)  # MLflow links a dataset to a run once

    def _op_model(self, seq: int, run_key: str, record: LogModel, attempts: int) -> list[Path]:
        run_id = self._run_id(run_key)
        if record.estimator:  # staged as a pickle by the kernel: build the MLmodel here
            with self.stoppable.stoppable():
                build_model(Path(record.estimator), Path(record.path), record.requirements)
        row = self.box.conn.execute(
            "SELECT experiment_id FROM runs WHERE run_key = ?", (run_key,)
        ).fetchone()
        staged = Path(record.path)
        upload_staged_model(
            self._client(),
            experiment_id=row[0],
            run_id=run_id,
            staged=staged,
            name=record.name,
            model_key=record.model_key,
            done=self.box.steps(seq),
            record=lambda step, value: self.box.record_step(seq, step, value),
            retry=bool(attempts),
        )
        return [staged.parent]

    def _op_end(self, run_key: str, record: EndRun) -> None:
        client = self._client()
        run_id = self._run_id(run_key)
        client.set_terminated(run_id, record.status, end_time=record.end_time)
        announce_run_end(self.ws, client, run_key, run_id)  # webhooks' run_finished, if wanted

    def _op_event(self, record: AnnounceEvent) -> None:
        """An event: handed to the webhook delivery queue (``deliveries``), never delivered
        here, so a slow receiver holds no record behind it."""
        hand_over(self.ws, dataclasses.asdict(record), self.box.run_id)


@dataclass(frozen=True)
class Entry:
    """One journal row, its record read back typed."""

    seq: int
    run_key: str
    record: Record
    attempts: int
    row: OpRow


def _text(entry: Entry) -> LogText:
    assert isinstance(entry.record, LogText)
    return entry.record


def _inside(base: Path, artifact_file: str) -> Path:
    """``artifact_file`` under ``base``, refused when it would leave it."""
    path = (base / artifact_file).resolve()
    if base not in path.parents:
        raise ValueError(f"artifact path {artifact_file!r} leaves the run")
    return path


def _unhandled(record: NoReturn) -> NoReturn:
    """mypy proves this is never reached: a record kind without a handler is a type error."""
    raise UnreadableRecord(f"journal record kind {type(record).__name__} has no handler")


def _drop_staged(path: Path) -> None:
    """A staged copy is only needed until its upload succeeded; long kernels must not hoard them."""

    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
