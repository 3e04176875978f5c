"""Replays outbox journals to MLflow, in order, exactly once; and recovers dead processes' journals.

Errors split in two: the server being unreachable (transient: stop, keep everything, retry with
backoff) and MLflow refusing one op (permanent: move it to ``failed_ops`` with the reason, so one
bad record can never block every later one).
"""

from __future__ import annotations

import json
import logging
import math
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..locks import FileLock
from ..workspace import Workspace
from .client import client_for, experiment_id
from .outbox import Outbox
from .runs import RUN_KEY_TAG

log = logging.getLogger("jupyter_mlops")

PERMANENT_CODES = {
    "INVALID_PARAMETER_VALUE",
    "RESOURCE_DOES_NOT_EXIST",
    "INVALID_STATE",
    "BAD_REQUEST",
    "RESOURCE_ALREADY_EXISTS",
}
MAX_METRICS, MAX_PARAMS, MAX_TAGS = 1000, 100, 100


@dataclass
class FlushResult:
    sent: int = 0
    failed: int = 0
    pending: int = 0
    error: str | None = None
    failures: list[str] = field(default_factory=list)


class ServerDown(Exception):
    pass


def _is_permanent(exc: Exception) -> bool:
    code = getattr(exc, "error_code", None)
    return code in PERMANENT_CODES


class Replayer:
    def __init__(self, ws: Workspace, box: Outbox) -> None:
        self.ws = ws
        self.box = box
        self._lock = threading.Lock()
        self._isolating = False  # after a refused batch, send records singly to find the bad one

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
                try:
                    self._send(group)
                except ServerDown as exc:
                    result.error = str(exc)
                    break
                except Exception as exc:
                    if not _is_permanent(exc) and not isinstance(
                        exc, (ValueError, KeyError, OSError)
                    ):
                        result.error = f"{type(exc).__name__}: {exc}"
                        break
                    if len(group) > 1:  # find the bad record: resend one by one
                        self._isolating = True
                        continue
                    self._fail(group, exc)
                    result.failed += len(group)
                    result.failures.append(f"{group[0][2]}: {exc}")
                    continue
                con.execute(
                    f"DELETE FROM ops WHERE seq IN ({','.join('?' * len(group))})",
                    [g[0] for g in group],
                )
                result.sent += len(group)
            self._isolating = False
            result.pending = self.box.pending()
        return result

    # -- internals ----------------------------------------------------------------------------
    def _group(self, rows: list[tuple]) -> list[tuple]:
        """Consecutive data ops of one run travel as one log_batch (within MLflow's limits)."""
        first = rows[0]
        if first[2] not in ("data", "text"):
            return [first]
        group, n_m, n_p, n_t = [], 0, 0, 0
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

    def _fail(self, group: list[tuple], exc: Exception) -> None:
        con = self.box.conn
        msg = getattr(exc, "message", None) or str(exc)
        log.warning("jupyter-mlops: MLflow refused a %s record: %s", group[0][2], msg)
        for seq, key, kind, payload, _ in group:
            con.execute(
                "INSERT OR REPLACE INTO failed_ops VALUES (?, ?, ?, ?, ?, ?)",
                (seq, key, kind, payload, msg[:2000], time.time()),
            )
            con.execute("DELETE FROM ops WHERE seq = ?", (seq,))

    def _mark_attempt(self, group: list[tuple]) -> None:
        self.box.conn.execute(
            f"UPDATE ops SET attempts = attempts + 1 WHERE seq IN ({','.join('?' * len(group))})",
            [g[0] for g in group],
        )

    def _run_id(self, run_key: str) -> str:
        run_id = self.box.run_id(run_key)
        if run_id is None:
            raise KeyError(f"run {run_key} was never created")
        return run_id

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            if _is_permanent(exc):
                raise
            text = str(exc)
            if any(
                s in text
                for s in ("Connection", "connection", "Max retries", "timed out", "503", "502")
            ):
                raise ServerDown(text[:300]) from None
            raise

    def _send(self, group: list[tuple]) -> None:
        self._mark_attempt(group)
        seq, run_key, kind, payload, attempts = group[0]
        data = json.loads(payload)
        if kind in ("data", "text"):
            items = [(g[2], json.loads(g[3]), g[4]) for g in group]
            data_items = [(d, a) for k, d, a in items if k == "data"]
            if data_items:
                self._op_data(run_key, data_items)
            texts = [d for k, d, _ in items if k == "text"]
            if texts:
                self._op_texts(run_key, texts)
            return
        handler = getattr(self, f"_op_{kind}", None)
        if handler is None:
            raise ValueError(f"unknown record kind {kind!r}")
        handler(run_key, data, attempts)

    # -- op handlers ---------------------------------------------------------------------------
    def _client(self):
        return client_for(self.ws)

    def _op_create(self, run_key: str, data: dict, attempts: int) -> None:
        client = self._client()
        exp_id = self._call(experiment_id, self.ws, data.get("experiment"))
        tags = dict(data.get("tags", {}))
        tags[RUN_KEY_TAG] = run_key
        parent = data.get("parent_run_id") or self._resolve_parent(data.get("parent_key"))
        if parent:
            tags["mlflow.parentRunId"] = parent
        run = None
        if attempts:  # sent before, answer lost: look before creating twice
            found = self._call(
                client.search_runs, [exp_id], filter_string=f"tags.`{RUN_KEY_TAG}` = '{run_key}'"
            )
            run = found[0] if found else None
        if run is None:
            run = self._call(
                client.create_run,
                exp_id,
                start_time=data.get("start_time"),
                tags=tags,
                run_name=data.get("name"),
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
        exps = [e.experiment_id for e in self._call(client.search_experiments)]
        found = self._call(
            client.search_runs, exps, filter_string=f"tags.`{RUN_KEY_TAG}` = '{parent_key}'"
        )
        return found[0].info.run_id if found else None

    def _op_data(self, run_key: str, items: list[tuple[dict, int]]) -> None:
        from mlflow.entities import Metric, Param, RunTag

        client = self._client()
        run_id = self._run_id(run_key)
        metrics, params, tags = [], {}, {}
        for data, attempts in items:
            batch = [Metric(k, v, ts, step) for k, v, ts, step in data.get("metrics", ())]
            if batch and attempts and self._landed(client, run_id, batch[0]):
                batch = []
            metrics.extend(batch)
            for key, value in data.get("params", {}).items():
                if params.get(key, value) != value:  # MLflow refuses a changed param: isolate it
                    raise ValueError(f"param {key!r} logged twice with different values")
                params[key] = value
            tags.update(data.get("tags", {}))
        self._call(
            client.log_batch,
            run_id,
            metrics=metrics,
            params=[Param(k, v) for k, v in params.items()],
            tags=[RunTag(k, v) for k, v in tags.items()],
        )

    def _landed(self, client: Any, run_id: str, metric: Any) -> bool:
        history = self._call(client.get_metric_history, run_id, metric.key)
        return any(
            h.timestamp == metric.timestamp
            and h.step == metric.step
            and (h.value == metric.value or (math.isnan(h.value) and math.isnan(metric.value)))
            for h in history
        )

    def _local_artifact_root(self, run_key: str) -> Path | None:
        """The run's artifact folder when it is on this machine's file system (embedded store)."""
        from urllib.parse import unquote, urlparse

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

    def _op_texts(self, run_key: str, texts: list[dict]) -> None:
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
            self._call(client.log_artifacts, run_id, tmp)

    def _op_artifact(self, run_key: str, data: dict, attempts: int) -> None:
        client = self._client()
        run_id = self._run_id(run_key)
        path = Path(data["path"])
        if path.is_dir():
            self._call(client.log_artifacts, run_id, str(path), data.get("artifact_path"))
        else:
            self._call(client.log_artifact, run_id, str(path), data.get("artifact_path"))
        _drop_staged(path)

    def _op_inputs(self, run_key: str, data: dict, attempts: int) -> None:
        from mlflow.entities import Dataset, DatasetInput, InputTag

        client = self._client()
        run_id = self._run_id(run_key)
        inputs = []
        for d in data["datasets"]:
            ds = Dataset(
                name=d["name"],
                digest=d["digest"],
                source_type=d.get("source_type", "local"),
                source=d.get("source", "{}"),
                schema=d.get("schema"),
                profile=d.get("profile"),
            )
            tags = [InputTag("mlflow.data.context", d["context"])] if d.get("context") else []
            inputs.append(DatasetInput(ds, tags))
        self._call(client.log_inputs, run_id, datasets=inputs)

    def _op_model(self, run_key: str, data: dict, attempts: int) -> None:
        from .models import upload_staged_model

        run_id = self._run_id(run_key)
        row = self.box.conn.execute(
            "SELECT experiment_id FROM runs WHERE run_key = ?", (run_key,)
        ).fetchone()
        self._call(
            upload_staged_model,
            self._client(),
            experiment_id=row[0],
            run_id=run_id,
            staged=Path(data["path"]),
            name=data["name"],
            model_key=data["model_key"],
            retry=bool(attempts),
        )
        _drop_staged(Path(data["path"]).parent)

    def _op_end(self, run_key: str, data: dict, attempts: int) -> None:
        client = self._client()
        run_id = self._run_id(run_key)
        self._call(client.set_terminated, run_id, data["status"], end_time=data.get("end_time"))


def _drop_staged(path: Path) -> None:
    """A staged copy is only needed until its upload succeeded; long kernels must not hoard them."""
    import shutil

    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def recover(
    ws: Workspace, *, exclude: Outbox | None = None, deadline: float | None = None
) -> FlushResult:
    """Replay the journals of dead processes; runs they left open are marked FAILED."""
    total = FlushResult()
    folder = ws.state_dir / "outbox"
    if not folder.is_dir():
        return total
    for db in sorted(folder.glob("*.db")):
        if exclude is not None and db == exclude.path:
            continue
        lock = FileLock(db.with_suffix(".lock"))
        if not lock.acquire(blocking=False):
            continue  # its process is alive and flushes it itself
        box = Outbox(db, lock)
        try:
            now_ms = int(time.time() * 1000)
            for run_key, last_seen in box.conn.execute(
                "SELECT r.run_key, MAX(r.last_seen, COALESCE(MAX(o.created), 0)) FROM runs r "
                "LEFT JOIN ops o ON o.run_key = r.run_key WHERE r.open = 1 GROUP BY r.run_key"
            ).fetchall():
                box.append(
                    run_key,
                    "data",
                    {"tags": {"mlops.failure": "the process recording this run died"}},
                )
                box.append(
                    run_key,
                    "end",
                    {"status": "FAILED", "end_time": min(now_ms, int(last_seen * 1000))},
                )
            result = Replayer(ws, box).flush(deadline)
            total.sent += result.sent
            total.failed += result.failed
            total.pending += result.pending
            total.failures += result.failures
            total.error = total.error or result.error
            if not box.remove_if_drained():
                box.close()
                lock.release()
        except Exception:
            box.close()
            lock.release()
            raise
    return total
