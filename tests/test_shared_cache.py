"""The build cache shared through a team server: two clones of one project, one real server.

The first clone builds; the second, a fresh folder with no `.mlops/`, gets cache hits from the
server (outputs restored from its artifacts, verified by digest, the original runs linked) and
executes nothing. A damaged artifact on the server is a miss: the step runs instead.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from notebook_support import make_notebook

from jupyter_mlops.pipeline.build import build
from jupyter_mlops.workspace import Workspace

REPO = Path(__file__).resolve().parents[1]
WRITE = (
    "from pathlib import Path\nfrom jupyter_mlops.pipeline import log_step_metrics\n"
    "Path('out').mkdir(exist_ok=True)\nPath('out/a.txt').write_text(str(n * 2))\n"
    "log_step_metrics(value=n * 2)"
)
YAML = "project: shared\nexperiment: shared-pipe\nsteps:\n  a:\n    notebook: a.ipynb\n"
YAML += "    parameters: {n: 3}\n    outputs: [out/a.txt]\n"


@pytest.fixture
def team(team_tracking, monkeypatch):
    from jupyter_mlops.datasets.api import forget_described
    from jupyter_mlops.datasets.versions import forget_known
    from jupyter_mlops.store.client import forget_cached_clients

    for var in ("MLOPS_WORKSPACE", "MLOPS_EXPERIMENT", "MLFLOW_TRACKING_USERNAME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", team_tracking.url)
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    forget_cached_clients()
    forget_known()
    forget_described()
    yield team_tracking
    from jupyter_mlops.capture import tracker

    tracker.shutdown_recorders()
    forget_cached_clients()


def _tiny_clone(folder: Path) -> Workspace:
    folder.mkdir()
    make_notebook(folder / "a.ipynb", "n = 1", WRITE)
    (folder / "mlops.yaml").write_text(YAML)
    return Workspace.find(folder)


def test_teammates_clone_restores_outputs_and_links_the_run(team, tmp_path, monkeypatch):
    mine = _tiny_clone(tmp_path / "mine")
    first = build(workspace=mine, progress=False, wait=True)
    assert [s.status for s in first.steps] == ["ran"], first.table()

    theirs = _tiny_clone(tmp_path / "theirs")
    monkeypatch.chdir(theirs.root)
    second = build(workspace=theirs, progress=False)
    assert [s.status for s in second.steps] == ["cached"], second.table()
    assert second.steps[0].run_id == first.steps[0].run_id
    assert second.pipeline_run_id is None  # nothing ran, so no pipeline run either
    assert (theirs.root / "out" / "a.txt").read_text() == "6"
    entry = json.loads(next((theirs.state_dir / "cache" / "steps").glob("*.json")).read_text())
    assert entry["run_id"] == first.steps[0].run_id


def test_a_damaged_artifact_on_the_server_is_a_miss(team, tmp_path, monkeypatch):
    mine = _tiny_clone(tmp_path / "mine")
    build(workspace=mine, progress=False, wait=True)
    stored = [p for p in team.artifacts_dir.rglob("a.txt") if "mlops-cache" in p.parts]
    assert len(stored) == 1
    stored[0].write_text("66")  # same step, wrong bytes

    theirs = _tiny_clone(tmp_path / "theirs")
    monkeypatch.chdir(theirs.root)
    second = build(workspace=theirs, progress=False, wait=True)
    assert [s.status for s in second.steps] == ["ran"], second.table()
    assert (theirs.root / "out" / "a.txt").read_text() == "6"


def _clone_example(target: Path) -> Path:
    ignore = shutil.ignore_patterns(".mlops", "output", "data", "reports", ".ipynb_checkpoints")
    shutil.copytree(REPO / "example_notebooks", target, ignore=ignore)
    return target


@pytest.mark.slow
def test_example_project_rebuilds_from_a_teammates_cache_in_seconds(team, tmp_path):
    env = {**os.environ, "MLFLOW_TRACKING_URI": team.url, "PYTHONPATH": str(REPO)}
    cli = [sys.executable, "-m", "jupyter_mlops.cli", "build"]
    mine = _clone_example(tmp_path / "mine")
    done = subprocess.run(cli, cwd=mine, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr

    theirs = _clone_example(tmp_path / "theirs")
    started = time.perf_counter()
    done = subprocess.run(cli, cwd=theirs, env=env, capture_output=True, text=True, timeout=300)
    elapsed = time.perf_counter() - started
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 cached" in done.stdout, done.stdout
    assert (theirs / "reports" / "metrics.json").read_bytes() == (
        mine / "reports" / "metrics.json"
    ).read_bytes()
    assert elapsed <= 3.0, f"teammate rebuild took {elapsed:.1f} s"


def test_a_produced_folder_counts_with_the_digest_it_will_have(tmp_path):
    from jupyter_mlops.pipeline.cache import produced_digest
    from jupyter_mlops.pipeline.files import DigestMemo

    for rel in ("out/a-b/x.txt", "out/a/b.txt", "out/z.txt", "other/y.txt"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(rel)
    memo = DigestMemo(None)
    recorded = {
        rel: memo.digest(tmp_path / rel)
        for rel in ("out/a-b/x.txt", "out/a/b.txt", "out/z.txt", "other/y.txt")
    }
    assert produced_digest("out", recorded) == memo.digest(tmp_path / "out")
    assert produced_digest("out/z.txt", recorded) == recorded["out/z.txt"]
    assert produced_digest("elsewhere", recorded) is None
