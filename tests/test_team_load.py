"""Load on a team server: many processes at once lose nothing, duplicate nothing, leave no run
RUNNING once their journals are replayed (at exit, else by the next process), and register one
dataset version for one frame.

Plain Python processes stand in for kernels (each is what a tracked kernel does: journal, flush
in the background, flush at exit); 32 real kernels would not fit two cores in minutes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from jupyter_mlops.store.client import client_for, experiment_id
from jupyter_mlops.store.gateway import gateway_for
from jupyter_mlops.workspace import Workspace

REPO = Path(__file__).resolve().parents[1]
WRITERS, POINTS = 32, 500
REGISTRARS = 16

LOGGER = """
import os, sys, time
from pathlib import Path
import numpy as np
from sklearn.linear_model import LogisticRegression
import jupyter_mlops
index, go = int(sys.argv[1]), Path(sys.argv[2])
X = np.random.default_rng(index).random((40, 3)); y = (X[:, 0] > 0.5).astype(int)
model = LogisticRegression().fit(X, y)
while not go.exists():
    time.sleep(0.01)
with jupyter_mlops.track(name=f"load-{index}"):
    for step in range(%(points)d):
        jupyter_mlops.log_metrics(loss=1.0 / (step + 1), step=step)
    jupyter_mlops.log_model(model, name="model", X=X[:5])
"""

REGISTRAR = """
import sys, time
from pathlib import Path
import pandas as pd
import jupyter_mlops
go = Path(sys.argv[2])
frame = pd.DataFrame({"a": range(1000), "b": [i / 3 for i in range(1000)]})
while not go.exists():
    time.sleep(0.01)
jupyter_mlops.log_dataset(frame, name="shared-frame")
"""


@pytest.fixture
def project(team_tracking, tmp_path, monkeypatch):
    root = tmp_path / "project"
    root.mkdir()
    (root / "mlops.yaml").write_text("project: load\n")
    for var in ("MLOPS_WORKSPACE", "MLOPS_EXPERIMENT", "MLFLOW_TRACKING_USERNAME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", team_tracking.url)
    from jupyter_mlops.store.client import forget_cached_clients

    forget_cached_clients()
    ws = Workspace.find(root)
    yield ws
    # the agent may still be replaying 32 journals: it must not write into the next test's server
    from jupyter_mlops.journal import agent_control

    agent_control.stop(ws, timeout=30)
    forget_cached_clients()


def _run_at_once(root: Path, script: str, count: int, timeout: float) -> None:
    go = root / "go"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(i), str(go)],
            cwd=root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for i in range(count)
    ]
    time.sleep(1.0)
    go.write_text("go")  # those that are ready start together; the rest join as they load
    failures = []
    deadline = time.monotonic() + timeout
    for proc in procs:
        try:
            out, _ = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
        if proc.returncode != 0:
            failures.append(out[-1500:])
    assert not failures, f"{len(failures)} of {count} processes failed:\n" + failures[0]


@pytest.mark.slow
def test_32_processes_logging_at_once_lose_and_duplicate_nothing(project):
    from jupyter_mlops.journal.recovery import recover

    _run_at_once(project.root, LOGGER % {"points": POINTS}, WRITERS, timeout=600)
    client = client_for(project)
    # on a busy machine the writers may all exit before the agent has created the experiment
    exp = experiment_id(project, create=False)
    landed = client.search_runs([exp], max_results=1000) if exp is not None else []
    open_runs = sum(r.info.status == "RUNNING" for r in landed)
    journals = len(list((project.state_dir / "outbox").glob("*.db")))
    print(f"after exit: {len(landed)} runs, {open_runs} RUNNING, {journals} journals left")
    result = recover(project)  # what the next process (or `jupyter-mlops sync`) does
    assert result.error is None, result.error
    exp = experiment_id(project, create=False)
    assert exp is not None, "recover left the experiment uncreated"
    runs = client.search_runs([exp], max_results=1000)
    names = sorted(r.info.run_name for r in runs)
    assert names == sorted(f"load-{i}" for i in range(WRITERS))  # each once
    assert {r.info.status for r in runs} == {"FINISHED"}  # none left RUNNING
    for run in runs:
        history = client.get_metric_history(run.info.run_id, "loss")
        assert sorted(m.step for m in history) == list(range(POINTS)), run.info.run_name
    models = client.search_logged_models([exp], max_results=1000)
    assert sorted(m.source_run_id for m in models) == sorted(r.info.run_id for r in runs)
    assert {str(m.status) for m in models} == {"READY"}, [m.status for m in models]


@pytest.mark.slow
def test_16_processes_registering_one_frame_make_one_version(project):
    from jupyter_mlops.datasets.versions import _search, list_versions

    _run_at_once(project.root, REGISTRAR, REGISTRARS, timeout=300)
    versions = list_versions(gateway_for(project), "shared-frame")
    assert len(versions) == 1, [(v.version, v.run_id) for v in versions]
    runs = _search(
        gateway_for(project), ""
    )  # not only listed once: one run, no duplicate left behind
    assert [r.info.run_id for r in runs] == [versions[0].run_id]
    assert runs[0].info.status == "FINISHED"
