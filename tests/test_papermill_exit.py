"""Records visible when papermill exits, in a brand-new workspace (no store, no agent running).

papermill gives a kernel 5 s to exit once the notebook ran, then kills it: too short to wait
for a sync agent that is still starting and creating the store. A script that reads MLflow
right after papermill returned must still find the notebook's runs and model: with plain
papermill the cells land their records before they end, and ``--engine mlops`` lands its step
run and the kernel's records before it returns.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from chaos_support import PAPERMILL_CLI
from notebook_support import make_notebook

from jupyter_mlops.journal import agent_control
from jupyter_mlops.workspace import Workspace

REPO = Path(__file__).resolve().parents[1]
FIT = (
    "%%mlops track --name fit --metrics acc\n"
    "from sklearn.linear_model import LogisticRegression\n"
    "X = [[0.0, 1.0], [1.0, 0.0], [0.2, 0.8], [0.9, 0.2]] * 5\n"
    "clf = LogisticRegression().fit(X, [0, 1, 0, 1] * 5)\n"
    "acc = clf.score(X, [0, 1, 0, 1] * 5)"
)


@pytest.mark.slow
@pytest.mark.parametrize("engine", [None, "mlops"])
def test_a_script_reading_mlflow_right_after_papermill_sees_the_run(tmp_path, engine):
    from mlflow import MlflowClient

    root = tmp_path / "fresh"
    root.mkdir()
    (root / "mlops.yaml").write_text("project: fresh\n")
    make_notebook(root / "fit.ipynb", None, "%load_ext jupyter_mlops", FIT)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "MLOPS_"))}
    env["PYTHONPATH"] = str(REPO)
    args = ["fit.ipynb", "fit-out.ipynb", "--no-progress-bar"]
    args += ["--engine", engine] if engine else []
    try:
        done = subprocess.run(
            [sys.executable, "-c", PAPERMILL_CLI, *args],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        # right away, as a script after papermill would: the store, read with MLflow itself
        client = MlflowClient(f"sqlite:///{root / '.mlops' / 'mlflow.db'}")
        runs = {
            r.data.tags["mlops.kind"]: r
            for e in client.search_experiments()
            for r in client.search_runs([e.experiment_id])
        }
        cell = runs["cell"]
        assert cell.info.status == "FINISHED", done.stderr[-3000:]
        assert cell.data.metrics["acc"] == 1.0
        assert cell.data.tags["mlops.model.clf"].startswith("models:/m-")
        [model] = client.search_logged_models(experiment_ids=[cell.info.experiment_id])
        assert str(model.status).endswith("READY")
        if engine:
            step = runs["step"]
            assert step.info.status == "FINISHED"
            assert cell.data.tags["mlflow.parentRunId"] == step.info.run_id
            notebook = client.list_artifacts(step.info.run_id, "notebook")
            assert [a.path for a in notebook] == ["notebook/fit.ipynb"]
        else:
            assert set(runs) == {"cell"}
        assert "records are queued" not in done.stderr
    finally:
        agent_control.stop(Workspace.find(root), timeout=10)


@pytest.mark.slow
def test_records_that_cannot_land_are_said_to_be_queued_under_the_cell(tmp_path):
    """The tracking server does not answer: papermill is not held up, and the cell says in one
    line where its records are."""
    import nbformat
    from ports import free_port

    root = tmp_path / "down"
    root.mkdir()
    (root / "mlops.yaml").write_text("project: down\n")
    make_notebook(root / "fit.ipynb", None, "%load_ext jupyter_mlops", FIT)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "MLOPS_"))}
    env["PYTHONPATH"] = str(REPO)
    env["MLFLOW_TRACKING_URI"] = f"http://127.0.0.1:{free_port()}"  # nobody listens there
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                PAPERMILL_CLI,
                "fit.ipynb",
                "fit-out.ipynb",
                "--no-progress-bar",
            ],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        cell = nbformat.read(root / "fit-out.ipynb", as_version=4).cells[-1]
        said = [
            line
            for out in cell.outputs
            if out.get("name") == "stderr"
            for line in out["text"].splitlines()
            if line.startswith("mlops:")
        ]
        assert len(said) == 1 and "records are queued" in said[0], cell.outputs
        assert f"the tracking server {env['MLFLOW_TRACKING_URI']} does not answer" in said[0]
        assert said[0].endswith("`jupyter-mlops sync` waits for them")
        assert list((root / ".mlops" / "outbox").glob("*.db")), "the records stay journaled"
    finally:
        ws = Workspace(root=root, _tracking_uri=env["MLFLOW_TRACKING_URI"])
        agent_control.stop(ws, timeout=10)
