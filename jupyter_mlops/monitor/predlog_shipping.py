"""Shipping the prediction log to the team server, so any machine can read every replica's log.

Each router replica keeps writing its segments locally (``predlog_writer``: one closed Arrow file
per flush); a shipper thread uploads closed segments every ``ship_interval`` seconds (60 by
default, ``monitor.log.ship_interval`` in mlops.yaml) to the server's artifact store, under a
bookkeeping run per model (experiment ``mlops-prediction-logs``, tag ``mlops.prediction_log`` =
model), at ``predictions/<model>/<replica>/<UTC hour>/<segment>``. A shipped segment moves into
``shipped/`` beside the others. Nothing of this runs on the request path, and a graceful stop
ships what is left (``PredictionLog.close``). Once an hour, shipped hours older than
``monitor.log.max_age`` are deleted from the server.

Exactly once: segment names are unique (first and last request time, pid, sequence, random
token), uploads are idempotent (same path, same bytes), and readers take each name once however
many runs, replicas or local folders hold it. Several replicas may create a bookkeeping run each at
the same moment; readers read them all.
"""

from __future__ import annotations

import calendar
import logging
import os
import socket
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict, cast

from ..settings import Settings
from ..tags import KIND_TAG, PREDICTION_LOG_TAG
from .predlog_format import FILE_NAME, model_folder_name, predictions_dir

if TYPE_CHECKING:
    from ..store.gateway import Gateway


class ShipStats(TypedDict):
    shipped: int
    ship_errors: int
    last_lag_s: float | None  # seconds from a segment's last record to its upload


log = logging.getLogger(__name__)
EXPERIMENT = "mlops-prediction-logs"
RUN_TAG = PREDICTION_LOG_TAG
ARTIFACT_ROOT = "predictions"
SHIPPED_DIR = "shipped"
DEFAULT_SHIP_INTERVAL = 60.0
PRUNE_SHIPPED_EVERY = 3600.0


def replica_name(settings: Settings) -> str:
    """The ``replica`` setting, else host and pid (unique per running router)."""
    name = settings.replica or f"{socket.gethostname()}-{os.getpid()}"
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in name)[:100] or "replica"


def segment_hour(name: str) -> str:
    match = FILE_NAME.match(name)
    t0 = int(match.group(1)) / 1000 if match else time.time()
    return time.strftime("%Y%m%d%H", time.gmtime(t0))


def _experiment_id(client: Any, create: bool) -> str | None:
    from mlflow.exceptions import MlflowException

    exp = client.get_experiment_by_name(EXPERIMENT)
    if exp is not None:
        return cast("str", exp.experiment_id)
    if not create:
        return None
    try:
        return cast("str", client.create_experiment(EXPERIMENT, tags={KIND_TAG: "prediction-logs"}))
    except MlflowException:  # another replica created it a moment ago
        exp = client.get_experiment_by_name(EXPERIMENT)
        if exp is None:
            raise
        return cast("str", exp.experiment_id)


def bookkeeping_runs(gw: Gateway, model: str, *, create: bool = False) -> list[str]:
    """Run ids holding ``model``'s shipped segments, oldest first (one created if asked)."""

    client = gw.client
    exp = _experiment_id(client, create)
    if exp is None:
        return []
    runs = client.search_runs(
        [exp], filter_string=f"tags.`{RUN_TAG}` = '{model}'", order_by=["start_time ASC"]
    )
    ids = [r.info.run_id for r in runs]
    if ids or not create:
        return ids
    run = client.create_run(
        exp, run_name=f"predictions-{model}", tags={RUN_TAG: model, KIND_TAG: "prediction-log"}
    )
    return [run.info.run_id]


def closed_segments(folder: Path) -> list[Path]:
    """Finished segments not shipped yet (temporary files are still being written)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and FILE_NAME.match(p.name))


class SegmentShipper:
    """Uploads a model's closed segments every ``interval`` seconds, in a daemon thread."""

    def __init__(
        self,
        gw: Gateway,
        model: str,
        *,
        interval: float = DEFAULT_SHIP_INTERVAL,
        replica: str | None = None,
        max_age: float | None = None,
    ) -> None:
        self.gw, self.model, self.interval = gw, model, interval
        self.max_age = max_age  # shipped hours older than this are deleted from the server
        self._pruned_at = 0.0
        self.replica = replica or replica_name(gw.ws.settings)
        self.folder = predictions_dir(gw.ws, model, create=True)
        self.shipped_dir = self.folder / SHIPPED_DIR
        self.stats: ShipStats = {"shipped": 0, "ship_errors": 0, "last_lag_s": None}
        self.last_error: str | None = None
        self._run_id: str | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"ship-{model}", daemon=True)

    def start(self) -> SegmentShipper:
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.ship()
            if (
                self.max_age is not None
                and time.monotonic() - self._pruned_at > PRUNE_SHIPPED_EVERY
            ):
                self._pruned_at = time.monotonic()
                try:
                    self.prune_shipped(self.max_age)
                except Exception as exc:  # retention waits for the next hour
                    log.warning("cannot prune shipped logs of %s: %s", self.model, exc)

    def prune_shipped(self, max_age: float, now: float | None = None) -> int:
        """Delete every replica's shipped hours that ended more than ``max_age`` seconds ago
        (any replica may do it: deleting twice is harmless); returns how many hours went."""
        client = self.gw.client
        limit = (now if now is not None else time.time()) - max_age
        base = f"{ARTIFACT_ROOT}/{model_folder_name(self.model)}"
        removed = 0
        for run_id in bookkeeping_runs(self.gw, self.model):
            expired = []
            for replica in client.list_artifacts(run_id, base):
                for hour in client.list_artifacts(run_id, replica.path) if replica.is_dir else []:
                    try:
                        start = calendar.timegm(time.strptime(hour.path[-10:], "%Y%m%d%H"))
                    except ValueError:
                        continue  # not one of ours
                    if hour.is_dir and start + 3600 <= limit:
                        expired.append(hour.path)
            self.gw.delete_artifacts(run_id, expired)
            removed += len(expired)
        return removed

    def ship(self) -> int:
        """Upload every closed segment now; returns how many were shipped (errors are kept)."""
        with self._lock:
            done = 0
            for path in closed_segments(self.folder):
                try:
                    self._upload(path)
                except Exception as exc:  # server away: the segment waits for the next round
                    self.stats["ship_errors"] += 1
                    self.last_error = f"{type(exc).__name__}: {exc}"
                    log.warning("cannot ship %s: %s", path.name, self.last_error)
                    break
                done += 1
            return done

    def _upload(self, path: Path) -> None:
        if self._run_id is None:
            self._run_id = bookkeeping_runs(self.gw, self.model, create=True)[0]
        dest = "/".join(
            (ARTIFACT_ROOT, model_folder_name(self.model), self.replica, segment_hour(path.name))
        )
        self.gw.client.log_artifact(self._run_id, str(path), dest)
        self.shipped_dir.mkdir(exist_ok=True)
        os.replace(path, self.shipped_dir / path.name)
        match = FILE_NAME.match(path.name)
        if match:
            self.stats["last_lag_s"] = round(time.time() - int(match.group(2)) / 1000, 3)
        self.stats["shipped"] += 1
        self.last_error = None

    def close(self) -> None:
        """Stop the thread and ship whatever is left (a graceful stop loses nothing)."""
        self._stop.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(30)
        self.ship()


def _hours_in(lo: float | None, hi: float | None, hour: str) -> bool:
    try:
        start = calendar.timegm(time.strptime(hour, "%Y%m%d%H"))
    except ValueError:
        return True  # not ours: read it rather than lose it
    return (lo is None or start + 3600 > lo) and (hi is None or start <= hi)


def fetch_shipped(
    gw: Gateway,
    model: str,
    since: float | None,
    until: float | None,
    known: set[str],
) -> list[Path]:
    """Local copies of the shipped segments of ``model`` in the window whose names are not in
    ``known`` (downloaded once into ``.mlops/predictions-cache``: segments never change)."""

    client = gw.client
    cache = gw.ws.subdir("predictions-cache") / model_folder_name(model)
    cache.mkdir(exist_ok=True)
    base = f"{ARTIFACT_ROOT}/{model_folder_name(model)}"
    out: list[Path] = []
    seen = set(known)
    for run_id in bookkeeping_runs(gw, model):
        for replica in client.list_artifacts(run_id, base):
            if not replica.is_dir:
                continue
            for hour in client.list_artifacts(run_id, replica.path):
                if not hour.is_dir or not _hours_in(since, until, hour.path.rsplit("/", 1)[-1]):
                    continue
                for seg in client.list_artifacts(run_id, hour.path):
                    name = seg.path.rsplit("/", 1)[-1]
                    match = FILE_NAME.match(name)
                    if seg.is_dir or not match or name in seen:
                        continue
                    t0, t1 = int(match.group(1)) / 1000, int(match.group(2)) / 1000
                    if (since is not None and t1 < since) or (until is not None and t0 >= until):
                        continue
                    seen.add(name)
                    local = cache / name
                    if not local.exists():
                        _download(client, run_id, seg.path, local)
                    out.append(local)
    return out


def _download(client: Any, run_id: str, path: str, local: Path) -> None:
    with tempfile.TemporaryDirectory(dir=local.parent) as tmp:
        got = client.download_artifacts(run_id, path, tmp)
        os.replace(got, local)  # whole or not at all: a reader never sees half a segment
