"""Release actions from two project folders on one team server (PostgreSQL + ``mlflow server``):
the registry lease serialises them, and the audit trail is complete and in order."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from release_support import fit_model, log_model_run, make_data
from team_server_support import project

from jupyter_mlops.release import history, registration, rollout
from jupyter_mlops.store.client import client_for, forget_cached_clients
from jupyter_mlops.store.gateway import gateway_for
from jupyter_mlops.workspace import Workspace

WORKER = Path(__file__).with_name("release_worker.py")
ROUNDS = 10


@pytest.fixture
def team_ws(tmp_path, team_tracking, monkeypatch):
    for var in ("MLFLOW_TRACKING_URI", "MLOPS_WORKSPACE", "MLOPS_EXPERIMENT"):
        monkeypatch.delenv(var, raising=False)
    forget_cached_clients()
    root = project(tmp_path / "alice", team_tracking.url)
    yield Workspace.find(root)
    forget_cached_clients()


def _versions(ws: Workspace, name: str, count: int) -> None:
    """``count`` versions with passed gates: one registered the usual way, the rest from its run."""
    df = make_data(120)
    run_id, model_id = log_model_run(ws, fit_model(df), df)
    first = registration.register(gateway_for(ws), run_id, name)
    client = client_for(ws)
    for _ in range(count - 1):
        client.create_model_version(name, first.source, run_id=run_id, model_id=model_id)
    for v in range(1, count + 1):
        client.set_model_version_tag(name, str(v), "mlops.gates", "passed")


def _worker(folder: Path) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, str(WORKER)],
        cwd=folder,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert json.loads(proc.stdout.readline())["ready"]
    return proc


def _ask(proc: subprocess.Popen, line: str) -> None:
    proc.stdin.write(line + "\n")
    proc.stdin.flush()


def test_two_folders_promoting_at_once_keep_the_chain_and_the_trail(
    team_ws, team_tracking, tmp_path
):
    name = "race"
    _versions(team_ws, name, 2 * ROUNDS + 1)
    rollout.promote(gateway_for(team_ws), name, 1, "champion")
    workers = [
        _worker(project(tmp_path / folder, team_tracking.url)) for folder in ("bob", "carol")
    ]
    champion = "1"
    try:
        for r in range(ROUNDS):
            mine = [str(2 + 2 * r), str(3 + 2 * r)]
            start = time.time() + 0.5
            for proc, v in zip(workers, mine, strict=True):
                _ask(proc, f"promote {name} {v} champion {start}")
            answers = [json.loads(proc.stdout.readline()) for proc in workers]
            assert all(a["ok"] for a in answers), answers
            st = rollout.state(gateway_for(team_ws), name)
            evts = history.events(gateway_for(team_ws), name)
            last_two = evts[-2:]
            assert {e.version for e in last_two} == set(mine), r
            first, second = last_two
            # serialised: the second saw the first as champion, the first saw the last round's
            assert first.details["previous"] == champion, (r, first)
            assert second.details["previous"] == first.version, (r, second)
            assert st.aliases["champion"] == second.version
            assert st.aliases["previous"] == first.version
            assert all(e.state == "done" for e in last_two)
            champion = second.version
    finally:
        for proc in workers:
            proc.stdin.close()
            proc.wait(30)
    evts = history.events(gateway_for(team_ws), name)
    promotes = [e for e in evts if e.action == "promote"]
    assert len(promotes) == 1 + 2 * ROUNDS
    assert [e.details["previous"] for e in promotes[1:]] == [e.version for e in promotes[:-1]]
    assert [e.ts for e in evts] == sorted(e.ts for e in evts)
    assert [e.details["lease"] for e in promotes] == sorted(e.details["lease"] for e in promotes)
