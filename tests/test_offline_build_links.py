"""A build made while the tracking server is down: once its runs land, the cache entries name
their runs, the downstream step's run names its upstream run, and nothing runs again."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
from notebook_support import make_notebook
from ports import free_port
from test_tracking_kernels import MlflowServer

from jupyter_mlops.capture import tracker
from jupyter_mlops.journal import agent_control
from jupyter_mlops.journal.sync import sync_workspace
from jupyter_mlops.pipeline.build import build
from jupyter_mlops.pipeline.cache import CacheIndex
from jupyter_mlops.store.client import forget_cached_clients
from jupyter_mlops.workspace import Workspace

SPEC = """project: offline
experiment: offline
steps:
  a:
    notebook: a.ipynb
    outputs: [a.txt]
  b:
    notebook: b.ipynb
    needs: [a]
    inputs: [a.txt]
    outputs: [b.txt]
"""


def _entries(ws: Workspace) -> dict[str, dict]:
    folder = ws.state_dir / "cache" / "steps"
    entries = [json.loads(p.read_text()) for p in folder.glob("*.json")]
    return {e["step"]: e for e in entries}


@pytest.mark.slow
def test_offline_build_entries_and_links_are_fixed_up_when_the_runs_land(tmp_path, monkeypatch):
    root = tmp_path / "proj"
    root.mkdir()
    make_notebook(root / "a.ipynb", None, "from pathlib import Path\nPath('a.txt').write_text('a')")
    make_notebook(
        root / "b.ipynb",
        "a_run_id = None",
        "from pathlib import Path\nPath('b.txt').write_text(Path('a.txt').read_text() + f' {a_run_id}')",
    )
    (root / "mlops.yaml").write_text(SPEC)
    server = MlflowServer(tmp_path, free_port())  # not started: nothing answers there
    monkeypatch.setenv("MLFLOW_TRACKING_URI", server.uri)
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).resolve().parents[1]))
    monkeypatch.delenv("MLOPS_WORKSPACE", raising=False)
    forget_cached_clients()
    ws = Workspace.find(root)
    try:
        report = build(workspace=ws, progress=False)
        assert [s.status for s in report.steps] == ["ran", "ran"], report.table()
        offline = _entries(ws)
        assert offline["a"]["run_id"] is None and offline["a"]["run_key"]
        assert (root / "b.txt").read_text() == "a None"  # no id to hand on offline

        server.start()
        deadline = time.monotonic() + 120
        while (result := sync_workspace(ws, timeout=30)).pending and time.monotonic() < deadline:
            pass
        assert result.pending == 0 and result.failed == 0, result.describe()
        assert CacheIndex(ws).resolve_offline_entries() == 2

        from mlflow import MlflowClient

        client = MlflowClient(server.uri)
        exp = client.get_experiment_by_name("offline")
        steps = {
            r.data.tags["mlops.step"]: r
            for r in client.search_runs([exp.experiment_id], "tags.`mlops.kind` = 'step'")
        }
        entries = _entries(ws)
        assert entries["a"]["run_id"] == steps["a"].info.run_id
        assert entries["b"]["run_id"] == steps["b"].info.run_id
        assert steps["b"].data.tags["mlops.upstream.a"] == steps["a"].info.run_id

        again = build(workspace=ws, progress=False)  # the handed run id leaves the keys alone
        assert [s.status for s in again.steps] == ["cached", "cached"], again.table()
        assert [s.run_id for s in again.steps] == [steps["a"].info.run_id, steps["b"].info.run_id]

        clone = tmp_path / "teammate"  # a fresh clone on the same server: the shared cache
        clone.mkdir()
        for name in ("a.ipynb", "b.ipynb", "mlops.yaml"):
            shutil.copy(root / name, clone / name)
        theirs = build(workspace=Workspace.find(clone), progress=False)
        assert [s.status for s in theirs.steps] == ["cached", "cached"], theirs.table()
        assert [s.run_id for s in theirs.steps] == [s.run_id for s in again.steps]
    finally:
        tracker.shutdown_recorders(timeout=1)
        agent_control.stop(ws, timeout=5)
        server.stop()
        forget_cached_clients()
