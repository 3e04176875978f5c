"""A serving fleet on one team server (PostgreSQL + ``mlflow server``): three ``jupyter-mlops
serve`` replicas, each its own process in its own folder. They follow the aliases within a second,
ship their prediction logs to the server, elect one canary guard, and a monitor run from a fourth
folder counts every request exactly once."""

from __future__ import annotations

import shutil
import statistics
import threading
import time
from collections import Counter

import httpx
import pytest
import team_server as team_server_mod
from release_support import FEATURES, registered
from team_server_support import (
    project,
    replica,
    stop_gracefully,
    wait_ready,
)
from waiting import wait_until

from jupyter_mlops.monitor.predlog import scan_predictions
from jupyter_mlops.monitor.predlog_shipping import SegmentShipper
from jupyter_mlops.monitor.report import build_report
from jupyter_mlops.release import history, rollout
from jupyter_mlops.store.client import forget_cached_clients
from jupyter_mlops.store.gateway import gateway_for
from jupyter_mlops.workspace import Workspace

MONITOR = """monitor:
  log:
    ship_interval: 2s
  canary:
    guard: true
    interval: 2s
    min_requests: 20
    window: 10m
    min_latency_p95_increase_ms: 10000
"""


@pytest.fixture(scope="module")
def team_server(team_server_session, pg_cluster):
    """The session's team server, emptied once for this module (its replicas live across tests)."""
    team_server_mod.reset_tracking_db(pg_cluster, team_server_session.database)
    for child in team_server_session.artifacts_dir.iterdir():
        shutil.rmtree(child, ignore_errors=True)
    return team_server_session


class Fleet:
    def __init__(self, ws: Workspace, urls: list[str], procs: list, rows) -> None:
        self.ws, self.urls, self.procs, self.rows = ws, urls, procs, rows
        self.sent: list[tuple[str, str]] = []  # (request id, version that answered)

    def send(self, n: int) -> None:
        """``n`` one-row requests, round robin over the replicas."""
        with httpx.Client(timeout=30) as http:
            for i in range(n):
                row = self.rows[(len(self.sent) + i) % len(self.rows)]
                r = http.post(
                    self.urls[i % len(self.urls)] + "/invocations",
                    json={"dataframe_split": {"columns": FEATURES, "data": [row]}},
                )
                assert r.status_code == 200, r.text
                self.sent.append((r.headers["x-request-id"], r.headers["x-model-version"]))

    def routing(self, url: str) -> tuple:
        info = httpx.get(url + "/version", timeout=5).json()
        return info["champion"], info["canary"], info["canary_weight"]

    def propagation(self, expected: tuple, since: float, timeout: float = 30) -> list[float]:
        """Seconds after ``since`` at which each replica routed as ``expected``."""
        seen: dict[str, float] = {}
        last: dict[str, object] = {}

        def watch(url: str) -> None:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                try:
                    last[url] = self.routing(url)
                except httpx.HTTPError as exc:
                    last[url] = repr(exc)
                if last[url] == expected:
                    seen[url] = time.time() - since
                    return
                time.sleep(0.02)

        threads = [threading.Thread(target=watch, args=(u,)) for u in self.urls]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if set(seen) != set(self.urls):
            logs = [(self.base / f"replica{i}" / "serve.log").read_text()[-1500:] for i in range(3)]
            raise AssertionError(
                f"not every replica reached {expected}: {last}\n" + "\n".join(logs)
            )
        return [seen[u] for u in self.urls]


@pytest.fixture(scope="module")
def fleet(team_server, tmp_path_factory):
    base = tmp_path_factory.mktemp("fleet")
    forget_cached_clients()
    ws = Workspace.find(project(base / "alice", team_server.url))
    df = registered(ws, "churn", ("good", "bad", "good"))  # v2 always says 0
    rollout.promote(gateway_for(ws), "churn", 1, "champion")
    procs, urls = [], []
    for i in range(3):
        folder = project(base / f"replica{i}", team_server.url, extra=MONITOR)
        proc, url = replica(folder, "churn", f"r{i}")
        procs.append((proc, folder))
        urls.append(url)
    for (proc, folder), url in zip(procs, urls, strict=True):
        wait_ready(proc, url, folder / "serve.log")
    f = Fleet(ws, urls, [p for p, _ in procs], df[FEATURES].values.tolist())
    f.base = base
    yield f
    for proc in f.procs:
        stop_gracefully(proc)
    forget_cached_clients()


def _applied(ws: Workspace, action: str, version: str) -> float:
    """When the change's last registry write was made (recorded in its audit entry once done)."""

    def applied() -> float | None:
        for e in reversed(history.events(gateway_for(ws), "churn")):
            if (e.action, e.version) == (action, version) and e.applied is not None:
                return e.applied
        return None

    return wait_until(
        applied, 30, interval=0.02, message=f"no completed {action} of v{version} in the history"
    )


def test_every_replica_follows_a_promotion_and_a_rollback_within_a_second(fleet):
    rollout.promote(gateway_for(fleet.ws), "churn", 3, "staging")
    for url in fleet.urls:  # the staged version is loaded ahead, on every replica
        wait_until(
            lambda u=url: "3" in httpx.get(u + "/version").json()["loaded"],
            120,
            message=lambda u=url: f"v3 never loaded: {httpx.get(u + '/version').json()}",
        )
    delays = []
    steps = [
        (
            lambda: rollout.promote(gateway_for(fleet.ws), "churn", 3, "canary", weight=50),
            ("1", "3", 50.0),
            ("promote", "3"),
        ),
        (
            lambda: rollout.rollback(gateway_for(fleet.ws), "churn", target="canary"),
            ("1", None, 0.0),
            ("rollback", "3"),
        ),
        (
            lambda: rollout.promote(gateway_for(fleet.ws), "churn", 3, "canary", weight=30),
            ("1", "3", 30.0),
            ("promote", "3"),
        ),
    ]
    for act, expected, event in steps:
        act()
        delays += fleet.propagation(expected, since=_applied(fleet.ws, *event))
    print(
        f"\npromote/rollback -> every replica: p50 {statistics.median(delays) * 1000:.0f} ms, "
        f"max {max(delays) * 1000:.0f} ms over {len(delays)} replica-changes"
    )
    assert max(delays) < 1.0, delays


def _counted(ws: Workspace) -> tuple[int, int, Counter]:
    table = scan_predictions(gateway_for(ws), "churn").table
    ids = table["request_id"].to_pylist()
    return len(ids), len(set(ids)), Counter(table["version"].to_pylist())


def test_a_monitor_in_a_fourth_folder_counts_every_request_once(fleet, team_server):
    reader = Workspace.find(project(fleet.base / "dave", team_server.url))
    fleet.send(90)
    last = time.time()
    wait_until(
        lambda: _counted(reader)[0] >= len(fleet.sent),
        60,
        interval=0.2,
        message=lambda: f"counted {_counted(reader)} of {len(fleet.sent)} sent",
    )
    print(
        f"\nlog shipping: every request readable from another folder {time.time() - last:.1f} s "
        "after the last one (ship interval 2 s)"
    )
    rows, distinct, by_version = _counted(reader)
    assert rows == distinct == len(fleet.sent)
    assert by_version == Counter(v for _, v in fleet.sent)
    assert by_version["3"] == pytest.approx(0.3 * len(fleet.sent), abs=3)


def test_the_one_guard_rolls_back_a_bad_canary_on_every_replica(fleet):
    rollout.promote(gateway_for(fleet.ws), "churn", 2, "canary", weight=50)
    fleet.propagation(("1", "2", 50.0), since=time.time())
    fleet.send(90)
    wait_until(
        lambda: "canary" not in rollout.state(gateway_for(fleet.ws), "churn").aliases,
        90,
        interval=0.05,
        message="the guard did not roll back the bad canary",
    )
    delays = fleet.propagation(("1", None, 0.0), since=_applied(fleet.ws, "rollback", "2"))
    print(f"\nguard rollback -> every replica: max {max(delays) * 1000:.0f} ms")
    assert max(delays) < 1.0, delays
    time.sleep(5)  # the other replicas' guards had two rounds to act too
    by_guard = [
        e for e in history.events(gateway_for(fleet.ws), "churn") if e.actor == "canary-guard"
    ]
    assert [(e.action, e.version) for e in by_guard] == [("rollback", "2")]
    assert "predictions differ" in by_guard[0].reason


def test_a_graceful_stop_ships_what_each_replica_holds(fleet, team_server):
    fleet.send(30)
    for proc in fleet.procs:
        assert stop_gracefully(proc) in (0, -15)  # uvicorn re-raises SIGTERM once it has stopped
    reader = Workspace.find(project(fleet.base / "erin", team_server.url))
    rows, distinct, by_version = _counted(reader)
    assert rows == distinct == len(fleet.sent)
    assert by_version == Counter(v for _, v in fleet.sent)
    report = build_report(gateway_for(reader), "churn", window="1h", record=False)
    assert report.health["all"].requests == len(fleet.sent)
    for folder in (fleet.base / f"replica{i}" for i in range(3)):
        pending = list((folder / ".mlops" / "predictions" / "churn").glob("*.arrow"))
        assert pending == [], pending  # everything moved to shipped/


def test_shipped_hours_older_than_max_age_are_deleted_from_the_server(fleet, team_server):
    reader = Workspace.find(project(fleet.base / "frank", team_server.url))
    assert scan_predictions(gateway_for(reader), "churn").table.num_rows == len(fleet.sent)
    shipper = SegmentShipper(gateway_for(reader), "churn")
    assert shipper.prune_shipped(max_age=7 * 86400) == 0  # nothing that old
    removed = shipper.prune_shipped(max_age=60, now=time.time() + 7200)
    assert removed >= 3  # every replica's hour(s)
    fresh = Workspace.find(project(fleet.base / "gina", team_server.url))
    assert scan_predictions(gateway_for(fresh), "churn").table.num_rows == 0
