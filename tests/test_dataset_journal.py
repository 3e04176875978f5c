"""Dataset registration through the journal: it works while the tracking server is down, lands
exactly once when it is back, and two machines registering one frame make one version.

Real stores: a real `mlflow server` on PostgreSQL (the team fixtures) behind a proxy that can
refuse every request, and a SQLite store shared by two workspaces.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from fault_proxy import FaultProxy

import jupyter_mlops
from jupyter_mlops.capture import tracker
from jupyter_mlops.datasets import versions as datasets_versions
from jupyter_mlops.datasets.api import forget_described, load_dataset, log_dataset
from jupyter_mlops.datasets.fingerprint import fingerprint
from jupyter_mlops.journal import agent_control
from jupyter_mlops.journal.records import RegisterDataset
from jupyter_mlops.journal.sync import outbox_counts, sync_workspace
from jupyter_mlops.store import dataset_versions
from jupyter_mlops.store.client import client_for, experiment_id, forget_cached_clients
from jupyter_mlops.store.gateway import gateway_for
from jupyter_mlops.workspace import Workspace

REPO = Path(__file__).resolve().parents[1]


def _frame(n: int = 200) -> pd.DataFrame:
    return pd.DataFrame({"a": range(n), "b": [i / 7 for i in range(n)]})


def _project(root: Path, monkeypatch, uri: str) -> Workspace:
    root.mkdir(parents=True)
    (root / "mlops.yaml").write_text("project: datasets\n")
    for var in ("MLOPS_WORKSPACE", "MLOPS_EXPERIMENT", "MLFLOW_TRACKING_USERNAME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    forget_cached_clients()
    datasets_versions.forget_known()
    forget_described()
    return Workspace.find(root)


def _dataset_runs(ws: Workspace) -> list:
    return datasets_versions._search(gateway_for(ws), "")


@pytest.fixture
def down_server(team_tracking):
    """The team server behind a proxy that refuses every request until ``proxy.before = 0``."""
    proxy = FaultProxy(team_tracking.port, before=1.0, after=0.0).start()
    yield proxy
    proxy.stop()


@pytest.mark.slow
def test_registered_while_the_server_is_down_lands_exactly_once_when_it_is_back(
    down_server, tmp_path, monkeypatch
):
    ws = _project(tmp_path / "project", monkeypatch, down_server.uri)
    df = _frame()
    try:
        with jupyter_mlops.track(name="offline cell", workspace=ws) as run:
            started = time.monotonic()
            version = log_dataset(df, name="offline", context="training", workspace=ws)
            took = time.monotonic() - started
        print(f"registration while the server is down: {took * 1000:.0f} ms")
        assert version.pending and version.run_id == ""
        assert version.ref == f"offline@{fingerprint(df)[:8]}"
        assert "queued until the tracking server answers" in repr(version)
        assert took < 15, took
        datasets_versions.forget_known()  # a second registration of the same frame (a new process)
        forget_described()
        started = time.monotonic()
        assert log_dataset(df, name="offline", workspace=ws).pending
        print(f"again, agent running: {(time.monotonic() - started) * 1000:.0f} ms")
        assert outbox_counts(ws).pending >= 3  # two versions queued and the run's records

        down_server.before = 0.0  # the server answers again
        started = time.monotonic()
        deadline = started + 120
        while (report := sync_workspace(ws, timeout=30)).pending and time.monotonic() < deadline:
            pass
        print(f"landed on sync in {time.monotonic() - started:.1f} s")
        assert report.pending == 0 and report.failed == 0, report.describe()

        runs = _dataset_runs(ws)
        assert len(runs) == 1, [r.info.run_id for r in runs]
        assert runs[0].info.status == "FINISHED"
        (listed,) = datasets_versions.list_versions(gateway_for(ws), "offline")
        assert listed.run_id == runs[0].info.run_id and listed.version == 1
        got = client_for(ws).get_run(run.wait_run_id())
        (di,) = got.inputs.dataset_inputs
        source = json.loads(di.dataset.source)
        assert source["uri"] == f"runs:/{listed.run_id}/snapshot/{listed.digest}.arrow"
        cached = datasets_versions.cache_path(datasets_versions.cache_folder(ws), listed.digest)
        cached.unlink()  # load from the server's copy: the staged snapshot was uploaded
        assert fingerprint(load_dataset("offline@1", workspace=ws)) == fingerprint(df)
    finally:
        tracker.shutdown_recorders(timeout=5)
        agent_control.stop(ws, timeout=5)
        forget_cached_clients()


REGISTRAR = """
import sys, time
from pathlib import Path
import pandas as pd
import jupyter_mlops
go = Path(sys.argv[1])
frame = pd.DataFrame({"a": range(500), "b": [i / 3 for i in range(500)]})
while not go.exists():
    time.sleep(0.01)
print(jupyter_mlops.log_dataset(frame, name="twice").run_id)
"""


@pytest.fixture(params=["embedded", "team"])
def shared_uri(request, tmp_path) -> str:
    """One tracking store for two machines: a SQLite file, or the team server."""
    if request.param == "team":
        return request.getfixturevalue("team_tracking").url
    db = tmp_path / "shared" / "mlflow.db"
    db.parent.mkdir()
    shutil.copy(request.getfixturevalue("cached_db"), db)
    return f"sqlite:///{db}"


@pytest.mark.slow
def test_two_machines_registering_one_frame_make_one_version(shared_uri, tmp_path, monkeypatch):
    """Two workspaces (two journals, two sync agents), one store, one frame at the same moment."""
    roots = [tmp_path / "alice", tmp_path / "bob"]
    workspaces = [_project(root, monkeypatch, shared_uri) for root in roots]
    go = tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", REGISTRAR, str(go)],
            cwd=root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for root in roots
    ]
    try:
        time.sleep(3)
        go.touch()
        outs = [p.communicate(timeout=180)[0] for p in procs]
        assert [p.returncode for p in procs] == [0, 0], outs
        ids = {out.strip().splitlines()[-1] for out in outs}
        assert len(ids) == 1 and "" not in ids, outs
        runs = _dataset_runs(workspaces[0])
        assert [r.info.run_id for r in runs] == list(ids)
    finally:
        for ws in workspaces:
            agent_control.stop(ws, timeout=5)
        forget_cached_clients()


@pytest.mark.parametrize("store", ["embedded", "team"], indirect=True)
def test_rivals_that_both_create_settle_on_the_earliest_run(workspace):
    """The race itself, made certain: both replayers search before either creates."""
    client = client_for(workspace)
    both_searched = threading.Barrier(2)

    class SearchesTogether:
        def __init__(self) -> None:
            self.first = True

        def __getattr__(self, name: str):
            return getattr(client, name)

        def search_runs(self, *args, **kwargs):
            found = client.search_runs(*args, **kwargs)
            if self.first:
                self.first = False
                both_searched.wait(timeout=30)
            return found

    landed: list = []
    errors: list = []

    def replay(token: str) -> None:
        try:
            landed.append(
                dataset_versions.land(
                    workspace,
                    SearchesTogether(),
                    RegisterDataset("raced", "0123456789abcdef0123456789abcdef", token),
                )
            )
        except Exception as exc:  # surfaced below
            errors.append(exc)

    experiment_id(workspace, dataset_versions.EXPERIMENT)
    threads = [threading.Thread(target=replay, args=(t,)) for t in ("machine-a", "machine-b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert len({v.run_id for v in landed}) == 1, landed
    runs = _dataset_runs(workspace)
    assert [r.info.run_id for r in runs] == [landed[0].run_id]
    exp = experiment_id(workspace, dataset_versions.EXPERIMENT)
    deleted = client.search_runs([exp], run_view_type=2)  # ViewType.DELETED_ONLY
    assert len(deleted) == 1  # both created; the later one removed itself
    assert runs[0].info.status == "FINISHED"


def test_registration_against_a_server_nobody_answers_returns_at_once(tmp_path, monkeypatch):
    """Connection refused: no wait on the agent, no MLflow retries; the version is journaled."""
    from ports import free_port

    ws = _project(tmp_path / "project", monkeypatch, f"http://127.0.0.1:{free_port()}")
    try:
        started = time.monotonic()
        version = log_dataset(_frame(), name="refused", workspace=ws)
        took = time.monotonic() - started
        print(f"registration, connection refused: {took * 1000:.0f} ms")
        assert version.pending and took < 3, took
        assert outbox_counts(ws).pending == 1
    finally:
        tracker.shutdown_recorders(timeout=1)
        agent_control.stop(ws, timeout=5)
        forget_cached_clients()
