"""Replays outbox journals to MLflow, in order, exactly once; and recovers dead processes' journals.

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

import json
import logging
import math
import os
import shutil
import sqlite3
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from ..locks import FileLock
from ..store import dataset_versions
from ..store.client import client_for, experiment_id
from ..store.logged_models import build_model, upload_staged_model
from ..tags import FAILURE_TAG, RUN_KEY_TAG
from ..workspace import Workspace
from .agent_control import read_status, wake
from .deliveries import announce_run_end, hand_over
from .faults import classify, gives_up
from .outbox import OpRow, Outbox, count_rows, replay_lock
from .run_leases import end_abandoned_runs

log = logging.getLogger("jupyter_mlops")

MAX_METRICS, MAX_PARAMS, MAX_TAGS = 1000, 100, 100
AWAIT_AGENT_S = 120.0  # longest a recover() waits on the agent without a deadline


@dataclass
class FlushResult:
    sent: int = 0
    failed: int = 0
    pending: int = 0
    error: str | None = None
    failures: list[str] = field(default_factory=list)

    def add(self, other: FlushResult) -> None:
        self.sent += other.sent
        self.failed += other.failed
        self.pending += other.pending
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
    def __init__(self, ws: Workspace, box: Outbox, client: Any = None) -> None:
        self.ws = ws
        self.box = box
        self.client = client  # None: the workspace's MlflowClient (tests pass a faulty one)
        self._lock = threading.Lock()
        self._isolating = False  # after a refused batch, send records singly to find the bad one
        turn_off_mlflow_retries(ws)

    # -- public -------------------------------------------------------------------------------
    def flush(self, deadline: float | None = None) -> FlushResult:
        """Send everything pending (until ``deadline``, a time.monotonic() value)."""
        result = FlushResult()
        with self._lock:
            con = self.box.conn
            while deadline is None or time.monotonic() < deadline:
                rows = con.execute(
                    "SELECT seq, run_key, kind, payload, attempts FROM ops ORDER BY seq LIMIT 200"
                ).fetchall()
                if not rows:
                    break
                group = self._group(rows)
                if len(group) > 1 and self._isolating:
                    group = group[:1]
                self._mark_attempt(group)
                try:
                    staged = self._send(group)
                except Exception as exc:
                    fault = classify(exc)
                    if not gives_up(fault, 1 + max(g[4] for g in group)):
                        result.error = _describe(exc)
                        break
                    if len(group) > 1:  # find the bad record: resend one by one
                        self._isolating = True
                        continue
                    self._fail(group, exc)
                    result.failed += 1
                    result.failures.append(f"{group[0][2]}: {exc}")
                    continue
                self.box.delete_ops([g[0] for g in group])
                for path in staged:  # only now: a retry of the op would still need it
                    _drop_staged(path)
                result.sent += len(group)
            self._isolating = False
            result.pending = self.box.pending()
        return result

    # -- internals ----------------------------------------------------------------------------
    def _group(self, rows: list[OpRow]) -> list[OpRow]:
        """Consecutive data ops of one run travel as one log_batch (within MLflow's limits)."""
        first = rows[0]
        if first[2] not in ("data", "text"):
            return [first]
        group: list[OpRow] = []
        n_m, n_p, n_t = 0, 0, 0
        for row in rows:
            if row[2] not in ("data", "text") or row[1] != first[1]:
                break
            p = json.loads(row[3])
            m, pa, t = len(p.get("metrics", ())), len(p.get("params", {})), len(p.get("tags", {}))
            if group and (n_m + m > MAX_METRICS or n_p + pa > MAX_PARAMS or n_t + t > MAX_TAGS):
                break
            group.append(row)
            n_m, n_p, n_t = n_m + m, n_p + pa, n_t + t
        return group

    def _fail(self, group: list[OpRow], exc: Exception) -> None:
        reason = _describe(exc)
        log.warning("jupyter-mlops: MLflow refused a %s record: %s", group[0][2], reason)
        self.box.move_to_failed(group, reason)

    def _mark_attempt(self, group: list[OpRow]) -> None:
        self.box.conn.execute(
            f"UPDATE ops SET attempts = attempts + 1 WHERE seq IN ({','.join('?' * len(group))})",
            [g[0] for g in group],
        )

    def _run_id(self, run_key: str) -> str:
        run_id = self.box.run_id(run_key)
        if run_id is None:
            raise KeyError(f"run {run_key} was never created")
        return run_id

    def _send(self, group: list[OpRow]) -> list[Path]:
        """Send one group; returns the staged files to delete once the group left the journal."""
        seq, run_key, kind, payload, attempts = group[0]
        if kind in ("data", "text"):
            items = [(g[2], json.loads(g[3]), g[4]) for g in group]
            data_items = [(d, a) for k, d, a in items if k == "data"]
            if data_items:
                self._op_data(run_key, data_items)
            texts = [d for k, d, _ in items if k == "text"]
            if texts:
                self._op_texts(run_key, texts)
            return []
        handler = getattr(self, f"_op_{kind}", None)
        if handler is None:
            raise ValueError(f"unknown record kind {kind!r}")
        return handler(seq, run_key, json.loads(payload), attempts) or []

    # -- op handlers: each step safe to repeat -----------------------------------------------------
    def _client(self) -> Any:
        return self.client if self.client is not None else client_for(self.ws)

    def _op_create(self, seq: int, run_key: str, data: dict[str, Any], attempts: int) -> None:
        client = self._client()
        exp_id = experiment_id(self.ws, data.get("experiment"), client=client)
        tags = dict(data.get("tags", {}))
        tags[RUN_KEY_TAG] = run_key
        parent = data.get("parent_run_id") or self._resolve_parent(data.get("parent_key"))
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
                exp_id, start_time=data.get("start_time"), tags=tags, run_name=data.get("name")
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

    def _op_data(self, run_key: str, items: list[tuple[dict[str, Any], int]]) -> None:
        from mlflow.entities import Metric, Param, RunTag

        client = self._client()
        run_id = self._run_id(run_key)
        metrics: list[Metric] = []
        params: dict[str, str] = {}
        tags: dict[str, str] = {}
        for data, attempts in items:
            batch = [Metric(k, v, ts, step) for k, v, ts, step in data.get("metrics", ())]
            if batch and attempts and self._landed(client, run_id, batch[0]):
                batch = []  # one log_batch carried the item: its first metric tells for all
            metrics.extend(batch)
            for key, value in data.get("params", {}).items():
                if params.get(key, value) != value:  # MLflow refuses a changed param: isolate it
                    raise ValueError(f"param {key!r} logged twice with different values")
                params[key] = value
            tags.update(data.get("tags", {}))
            for tag, key in data.get("tag_keys", {}).items():  # runs named by journal key
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

    def _op_texts(self, run_key: str, texts: list[dict[str, Any]]) -> None:
        """All text artifacts of a group in one go: written in place for a local store, else one upload."""
        root = self._local_artifact_root(run_key)
        if root is not None:  # MLflow's own local repository copies files; skip its get_run too
            base = root.resolve()
            for item in texts:
                path = (base / item["artifact_file"]).resolve()
                if base not in path.parents:
                    raise ValueError(f"artifact path {item['artifact_file']!r} leaves the run")
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_name(f".{path.name}.tmp")
                tmp.write_text(item["text"], encoding="utf-8")
                tmp.replace(path)
            return
        client = self._client()
        run_id = self._run_id(run_key)
        with tempfile.TemporaryDirectory() as tmp:
            for item in texts:
                path = Path(tmp) / item["artifact_file"]
                if Path(tmp).resolve() not in path.resolve().parents:
                    raise ValueError(f"artifact path {item['artifact_file']!r} leaves the run")
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(item["text"], encoding="utf-8")
            client.log_artifacts(run_id, tmp)

    def _op_artifact(
        self, seq: int, run_key: str, data: dict[str, Any], attempts: int
    ) -> list[Path]:
        client = self._client()
        run_id = self._run_id(run_key)
        path = Path(data["path"])
        if path.is_dir():
            client.log_artifacts(run_id, str(path), data.get("artifact_path"))
        else:
            client.log_artifact(run_id, str(path), data.get("artifact_path"))
        return [path]

    def _op_dataset(
        self, seq: int, run_key: str, data: dict[str, Any], attempts: int
    ) -> list[Path]:
        """A dataset version: created once per (name, digest) across machines (see
        ``dataset_versions``); the version's run is kept in the journal for its registrant."""
        landed = dataset_versions.land(self.ws, self._client(), data)
        self.box.record_dataset(run_key, landed.run_id, landed.snapshot_run, landed.file_hash)
        return [Path(data["snapshot"]).parent] if data.get("snapshot") else []

    def _dataset_source(self, item: dict[str, Any]) -> str:
        """An input's source, with the snapshot's ``runs:/`` URI of a version registered while
        its run id was unknown (journaled in the same breath, landed just before)."""
        source = str(item.get("source", "{}"))
        key = item.get("dataset_key")
        if not key:
            return source
        landed = self.box.dataset(key)
        if landed is not None:
            run_id, snapshot_run = landed[0], landed[1]
        else:  # landed from another journal, or set aside: ask the store
            found = dataset_versions.find(self.ws, self._client(), item["name"], item["digest"])
            if found is None:
                return source
            run_id, snapshot_run = found.run_id, found.snapshot_run
        fields = json.loads(source)
        uri = dataset_versions.snapshot_uri(snapshot_run or run_id, item["digest"])
        return json.dumps({"uri": uri, **fields})

    def _op_inputs(self, seq: int, run_key: str, data: dict[str, Any], attempts: int) -> None:
        from mlflow.entities import Dataset, DatasetInput, InputTag

        client = self._client()
        run_id = data.get("run_id") or self._run_id(run_key)  # a run id: a run made elsewhere
        inputs = []
        for d in data["datasets"]:
            ds = Dataset(
                name=d["name"],
                digest=d["digest"],
                source_type=d.get("source_type", "local"),
                source=self._dataset_source(d),
                schema=d.get("schema"),
                profile=d.get("profile"),
            )
            tags = [InputTag("mlflow.data.context", d["context"])] if d.get("context") else []
            inputs.append(DatasetInput(ds, tags))
        client.log_inputs(run_id, datasets=inputs)  # MLflow links a dataset to a run once

    def _op_model(self, seq: int, run_key: str, data: dict[str, Any], attempts: int) -> list[Path]:
        run_id = self._run_id(run_key)
        if data.get("estimator"):  # staged as a pickle by the kernel: build the MLmodel here
            build_model(Path(data["estimator"]), Path(data["path"]), data.get("requirements", []))
        row = self.box.conn.execute(
            "SELECT experiment_id FROM runs WHERE run_key = ?", (run_key,)
        ).fetchone()
        staged = Path(data["path"])
        upload_staged_model(
            self._client(),
            experiment_id=row[0],
            run_id=run_id,
            staged=staged,
            name=data["name"],
            model_key=data["model_key"],
            done=self.box.steps(seq),
            record=lambda step, value: self.box.record_step(seq, step, value),
            retry=bool(attempts),
        )
        return [staged.parent]

    def _op_end(self, seq: int, run_key: str, data: dict[str, Any], attempts: int) -> None:
        client = self._client()
        run_id = self._run_id(run_key)
        client.set_terminated(run_id, data["status"], end_time=data.get("end_time"))
        announce_run_end(self.ws, client, run_key, run_id)  # webhooks' run_finished, if wanted

    def _op_event(self, seq: int, run_key: str, data: dict[str, Any], attempts: int) -> None:
        """An event: handed to the webhook delivery queue (``deliveries``), never delivered
        here, so a slow receiver holds no record behind it."""
        hand_over(self.ws, data, self.box.run_id)


def _drop_staged(path: Path) -> None:
    """A staged copy is only needed until its upload succeeded; long kernels must not hoard them."""

    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def recover(
    ws: Workspace,
    *,
    exclude: Outbox | None = None,
    deadline: float | None = None,
    client: Any = None,
    as_agent: bool = False,
) -> FlushResult:
    """Replay the journals of dead processes; runs they left open are marked FAILED.

    Only the holder of the workspace's replay lock replays: when the sync agent runs, this waits
    for it to land the dead journals instead (until ``deadline``, or until it reports MLflow
    unreachable), so two processes never replay one journal at once.
    """
    if as_agent:
        return _recover(ws, exclude, deadline, client)
    lock = replay_lock(ws)
    if not lock.acquire(blocking=False):
        return _await_agent(ws, exclude, deadline)
    try:
        return _recover(ws, exclude, deadline, client)
    finally:
        lock.release()


def dead_journal_backlog(ws: Workspace, exclude: Outbox | None) -> int:
    """Records (and open runs) in journals whose process is dead, landed or being landed."""
    folder = ws.state_dir / "outbox"
    backlog = 0
    agent_pid = replay_lock(ws).holder().get("pid")
    for db in sorted(folder.glob("*.db")) if folder.is_dir() else []:
        if exclude is not None and db == exclude.path:
            continue
        lock = FileLock(db.with_suffix(".lock"))
        if not lock.is_free() and lock.holder().get("pid") != agent_pid:
            continue  # its own process holds it: alive
        found = count_rows(db, "ops", "runs WHERE open = 1")
        if found is not None:
            backlog += sum(found)
    return backlog


def _await_agent(ws: Workspace, exclude: Outbox | None, deadline: float | None) -> FlushResult:
    began = time.time()
    wake(ws)
    deadline = deadline if deadline is not None else time.monotonic() + AWAIT_AGENT_S
    backlog = dead_journal_backlog(ws, exclude)
    error = None
    while backlog and time.monotonic() < deadline:
        time.sleep(0.05)
        backlog = dead_journal_backlog(ws, exclude)
        state = read_status(ws)
        if backlog and state.get("error") and state.get("last_pass", 0) > began:
            error = state["error"]
            break
    return FlushResult(pending=backlog, error=error if backlog else None)


def _recover(
    ws: Workspace, exclude: Outbox | None, deadline: float | None, client: Any
) -> FlushResult:
    total = FlushResult()
    if (ws.state_dir / "leases").is_dir():
        end_abandoned_runs(ws, client or client_for(ws))
    folder = ws.state_dir / "outbox"
    if not folder.is_dir():
        return total
    for db in sorted(folder.glob("*.db")):
        if exclude is not None and db == exclude.path:
            continue
        lock = FileLock(db.with_suffix(".lock"))
        if not lock.acquire(blocking=False):
            continue  # its process is alive
        box = Outbox(db, lock)
        try:
            _close_open_runs(box)
            total.add(Replayer(ws, box, client).flush(deadline))
            if not box.remove_if_drained():
                box.close()
                lock.release()
        except Exception:
            box.close()
            lock.release()
            raise
    return total


def _close_open_runs(box: Outbox) -> None:
    now_ms = int(time.time() * 1000)
    for run_key, last_seen in box.conn.execute(
        "SELECT r.run_key, MAX(r.last_seen, COALESCE(MAX(o.created), 0)) FROM runs r "
        "LEFT JOIN ops o ON o.run_key = r.run_key WHERE r.open = 1 GROUP BY r.run_key"
    ).fetchall():
        with box.batch():
            box.append(
                run_key, "data", {"tags": {FAILURE_TAG: "the process recording this run died"}}
            )
            box.append(
                run_key, "end", {"status": "FAILED", "end_time": min(now_ms, int(last_seen * 1000))}
            )
