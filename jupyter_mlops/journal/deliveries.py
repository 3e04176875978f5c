"""The webhook delivery queue: one row per (event, receiver), each delivery a confirmed step.

When the replay reaches an ``event`` record, it hands the event to this queue (``.mlops/events/
deliveries.db``, SQLite in WAL mode) with one delivery per receiver that wants it, in one
transaction, and only then drops the record from the journal: the hand-over is idempotent (keyed
by the event's id), so a replay that stops between the two steps hands it over again at no cost.
The MLflow replay never waits for a receiver: deliveries are made by the dispatcher's threads
(``webhooks.py``), one per receiver, each in the order the events were queued.

A delivery is ``pending`` (with its attempts, the next attempt's time, the last answer), then
``delivered`` once a receiver answered 2xx, or ``failed`` when the receiver refused it (a 4xx
other than 408 and 429) or kept failing longer than its ``retry_for``. Failed deliveries are
listed by ``jupyter-mlops events`` and put back in line by ``--retry-failed``.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..errors import MlopsError
from ..tags import ERROR_TYPE_TAG, KIND_TAG
from ..workspace import Workspace
from .event_record import RUN_FINISHED, Event, event_id, plain
from .webhook_spec import receivers_for

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    model TEXT,
    ts REAL NOT NULL,
    body TEXT NOT NULL,
    queued REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS deliveries (
    event_seq INTEGER NOT NULL,
    receiver TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_try REAL NOT NULL DEFAULT 0,
    last_try REAL,
    status INTEGER,
    error TEXT,
    delivered REAL,
    since REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (event_seq, receiver)
);
CREATE INDEX IF NOT EXISTS deliveries_waiting ON deliveries (receiver, state, event_seq);
"""
log = logging.getLogger("jupyter_mlops")
MAX_METRICS = 100  # a finished run's event carries at most this many of its metrics
KEEP_DONE_S = 7 * 86400.0  # delivered rows are kept this long for `jupyter-mlops events`
STATES = ("pending", "delivered", "failed")


def queue_path(ws: Workspace) -> Path:
    return ws.state_dir / "events" / "deliveries.db"


@dataclass(frozen=True)
class Delivery:
    """One event on its way to one receiver."""

    seq: int
    receiver: str
    event: Event
    state: str
    attempts: int
    next_try: float
    last_try: float | None
    status: int | None
    error: str | None
    delivered: float | None
    since: float  # when it entered the line (queued, or put back by --retry-failed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "event_id": self.event.id,
            "kind": self.event.kind,
            "model": self.event.model,
            "text": self.event.to_dict()["text"],
            "ts": self.event.ts,
            "receiver": self.receiver,
            "state": self.state,
            "attempts": self.attempts,
            "next_try": self.next_try if self.state == "pending" else None,
            "last_try": self.last_try,
            "status": self.status,
            "error": self.error,
            "delivered": self.delivered,
        }


_COLUMNS = (
    "d.event_seq, d.receiver, e.body, d.state, d.attempts, d.next_try, d.last_try, d.status, "
    "d.error, d.delivered, d.since"
)


def _row(row: tuple[Any, ...]) -> Delivery:
    seq, receiver, body, state, attempts, next_try, last_try, status, error, delivered, since = row
    return Delivery(
        seq,
        receiver,
        Event.from_dict(json.loads(body)),
        state,
        attempts,
        next_try,
        last_try,
        status,
        error,
        delivered,
        since,
    )


class DeliveryQueue:
    """The workspace's queue; one connection per thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()

    @classmethod
    def of(cls, ws: Workspace) -> DeliveryQueue:
        return cls(queue_path(ws))

    @property
    def conn(self) -> sqlite3.Connection:
        con = getattr(self._local, "con", None)
        if con is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA synchronous=NORMAL")
            con.executescript(SCHEMA)
            self._local.con = con
        return con

    def close(self) -> None:
        con = getattr(self._local, "con", None)
        if con is not None:
            con.close()
            self._local.con = None

    # -- the hand-over from the journal ------------------------------------------------------
    def enqueue(self, event: Event, receivers: list[str]) -> int:
        """Queue ``event`` for each of ``receivers`` (again: nothing happens); returns how many
        deliveries are new."""
        con = self.conn
        now = time.time()
        con.execute("BEGIN IMMEDIATE")
        try:
            con.execute(
                "INSERT OR IGNORE INTO events (id, kind, model, ts, body, queued) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    event.id,
                    event.kind,
                    event.model,
                    event.ts,
                    json.dumps(event.to_dict(), separators=(",", ":"), default=str),
                    now,
                ),
            )
            seq = con.execute("SELECT seq FROM events WHERE id = ?", (event.id,)).fetchone()[0]
            added = 0
            for name in receivers:
                added += con.execute(
                    "INSERT OR IGNORE INTO deliveries (event_seq, receiver, since) VALUES (?, ?, ?)",
                    (seq, name, now),
                ).rowcount
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        return added

    # -- the dispatcher's side ---------------------------------------------------------------
    def next_for(self, receiver: str) -> Delivery | None:
        """The oldest pending delivery to ``receiver``: it goes first, whatever its next_try.
        Oldest by when the event happened, so two processes' events handed over in one replay
        pass still go out in the order they happened."""
        row = self.conn.execute(
            f"SELECT {_COLUMNS} FROM deliveries d JOIN events e ON e.seq = d.event_seq "
            "WHERE d.receiver = ? AND d.state = 'pending' ORDER BY e.ts, d.event_seq LIMIT 1",
            (receiver,),
        ).fetchone()
        return _row(row) if row else None

    def waiting_receivers(self) -> list[str]:
        rows = self.conn.execute(
            "SELECT DISTINCT receiver FROM deliveries WHERE state = 'pending'"
        ).fetchall()
        return [r[0] for r in rows]

    def record_attempt(
        self,
        delivery: Delivery,
        *,
        state: str,
        status: int | None,
        error: str | None,
        next_try: float = 0.0,
    ) -> None:
        now = time.time()
        self.conn.execute(
            "UPDATE deliveries SET state = ?, attempts = attempts + 1, next_try = ?, "
            "last_try = ?, status = ?, error = ?, delivered = ? "
            "WHERE event_seq = ? AND receiver = ? AND state = 'pending'",
            (
                state,
                next_try,
                now,
                status,
                (error or None) and error[:1000],
                now if state == "delivered" else None,
                delivery.seq,
                delivery.receiver,
            ),
        )

    def pending_count(self) -> int:
        row = self.conn.execute("SELECT COUNT(*) FROM deliveries WHERE state = 'pending'")
        return int(row.fetchone()[0])

    def prune(self, now: float | None = None) -> int:
        """Forget delivered events older than ``KEEP_DONE_S`` (failed ones stay until handled)."""
        limit = (now if now is not None else time.time()) - KEEP_DONE_S
        con = self.conn
        gone = con.execute(
            "DELETE FROM deliveries WHERE state = 'delivered' AND delivered < ?", (limit,)
        ).rowcount
        con.execute(
            "DELETE FROM events WHERE queued < ? AND seq NOT IN (SELECT event_seq FROM deliveries)",
            (limit,),
        )
        return int(gone)

    # -- what people ask -----------------------------------------------------------------------
    def recent(self, limit: int = 50, state: str | None = None) -> list[Delivery]:
        """The newest deliveries first (of one ``state`` when given)."""
        where, args = ("WHERE d.state = ?", [state]) if state else ("", [])
        rows = self.conn.execute(
            f"SELECT {_COLUMNS} FROM deliveries d JOIN events e ON e.seq = d.event_seq {where} "
            "ORDER BY d.event_seq DESC, d.receiver LIMIT ?",
            (*args, int(limit)),
        ).fetchall()
        return [_row(r) for r in rows]

    def counts(self) -> dict[str, int]:
        rows = self.conn.execute("SELECT state, COUNT(*) FROM deliveries GROUP BY state").fetchall()
        found = dict.fromkeys(STATES, 0)
        found.update({state: int(n) for state, n in rows})
        return found

    def retry_failed(self) -> int:
        """Put failed deliveries back in line, at their old place, with fresh attempts."""
        return int(
            self.conn.execute(
                "UPDATE deliveries SET state = 'pending', attempts = 0, next_try = 0, since = ? "
                "WHERE state = 'failed'",
                (time.time(),),
            ).rowcount
        )


_queues: dict[Path, DeliveryQueue] = {}
_queues_guard = threading.Lock()


def hand_over(
    ws: Workspace, record: dict[str, Any], run_of: Callable[[str], str | None] | None = None
) -> int:
    """The replay's step for an ``event`` record: queue it for every receiver that wants it
    (idempotent); ``run_of`` maps a run key to its landed run id (a finished run's event names
    the run MLflow knows). Returns how many deliveries are new."""
    event = Event.from_dict(record)
    names = [spec.name for spec in receivers_for(ws, event.kind, event.model)]
    if not names:
        return 0
    key = event.data.get("run_key")
    if event.kind == RUN_FINISHED and run_of is not None and key and not event.data.get("run_id"):
        event = replace(event, data={**event.data, "run_id": run_of(str(key))})
    path = queue_path(ws)
    with _queues_guard:
        queue = _queues.setdefault(path, DeliveryQueue(path))
    return queue.enqueue(event, names)


def announce_run_end(ws: Workspace, client: Any, run_key: str, run_id: str) -> int:
    """A journaled run's end has just landed: queue ``run_finished`` for the receivers that want
    it, with what MLflow now holds (name, status, times, metrics). Its id derives from the run
    key, so a replayed end announces nothing new. A broken ``events:`` section is logged, never
    held against the run's record."""
    try:
        names = [spec.name for spec in receivers_for(ws, RUN_FINISHED, None)]
    except MlopsError as exc:
        log.warning("jupyter-mlops: run_finished event not sent: %s", exc)
        return 0
    if not names:
        return 0
    run = client.get_run(run_id)
    info, tags = run.info, run.data.tags
    start, end = info.start_time, info.end_time
    event = Event(
        kind=RUN_FINISHED,
        project=ws.name,
        data={
            "run_id": run_id,
            "run_key": run_key,
            "name": info.run_name,
            "experiment_id": info.experiment_id,
            "status": info.status,
            "kind": tags.get(KIND_TAG),
            "parent_run_id": tags.get("mlflow.parentRunId"),
            "duration_s": (end - start) / 1000 if start and end else None,
            "error": tags.get(ERROR_TYPE_TAG),
            "metrics": plain(dict(list(run.data.metrics.items())[:MAX_METRICS])),
        },
        actor=tags.get("mlflow.user"),
        id=event_id(RUN_FINISHED, None, run_key),
        ts=(end or time.time() * 1000) / 1000,
    )
    path = queue_path(ws)
    with _queues_guard:
        queue = _queues.setdefault(path, DeliveryQueue(path))
    return queue.enqueue(event, names)


def read_queue(ws: Workspace) -> DeliveryQueue | None:
    """The workspace's queue when it exists (a listing never creates it)."""
    path = queue_path(ws)
    return DeliveryQueue(path) if path.is_file() else None
