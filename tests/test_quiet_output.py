"""What users see stays theirs: no third-party chatter in the demo, cells or builds.

Each string below reached users before: ipykernel's warning per kernel, MLflow's store-creation
INFO lines, its run links, its artifact progress bars, and its red warnings for a fitted
transformer logged as a model.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

import jupyter_mlops
from jupyter_mlops.capture import estimators
from jupyter_mlops.quiet import DEBUG_LOG, quiet_mlflow
from jupyter_mlops.store.client import client_for

REPO = Path(__file__).resolve().parents[1]
NOISE = (
    "Kernel is running over TCP without encryption",
    "Creating initial MLflow database tables",
    "Context impl SQLiteImpl",
    "Will assume transactional DDL",
    "View run ",
    "View experiment at",
    "Downloading artifacts",
    "Failed to infer the model signature",
    "Not logging python_function flavor",
    "KeyboardInterrupt caught in kernel",
    "Traceback (most recent call last)",
)


def _noise_in(text: str) -> list[str]:
    return [n for n in NOISE if n in text]


def _notebook_outputs(path: Path) -> str:
    nb = json.loads(path.read_text())
    texts = []
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            texts.append("".join(out.get("text", "")))
            texts.extend(str(v) for v in out.get("data", {}).values())
    return "\n".join(texts)


@pytest.mark.slow
def test_the_demo_prints_no_third_party_noise(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLOPS_", "MLFLOW_"))}
    env["PYTHONPATH"] = str(REPO)
    project = tmp_path / "example"
    done = subprocess.run(
        [sys.executable, "-m", "jupyter_mlops.demo", "--project", str(project)],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    shown = done.stdout + done.stderr
    assert done.returncode == 0, shown[-3000:]
    assert "rolled back" in done.stdout  # the demo went through to its end
    assert _noise_in(shown) == [], shown
    for notebook in sorted((project / "output").glob("*.ipynb")):
        assert _noise_in(_notebook_outputs(notebook)) == [], notebook.name


def test_store_creation_lines_go_to_the_debug_log(workspace, caplog, capfd) -> None:
    (workspace.state_dir / "mlflow.db").unlink()  # a store MLflow must create
    quiet_mlflow()
    with caplog.at_level(logging.DEBUG, logger=DEBUG_LOG.name):
        client_for(workspace).search_experiments()
    debug = [r.getMessage() for r in caplog.records if r.name == DEBUG_LOG.name]
    assert any("Creating initial MLflow database tables" in m for m in debug), debug
    out, err = capfd.readouterr()
    assert _noise_in(out + err) == []
    assert os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] == "false"


def test_only_estimators_that_predict_become_models(workspace) -> None:
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = load_iris(return_X_y=True, as_frame=True)
    namespace: dict = {"X_train": X, "y": y}
    before = estimators.snapshot(namespace)
    namespace["scaler"] = StandardScaler().fit(X)
    namespace["clf"] = LogisticRegression(max_iter=500).fit(X, y)
    namespace["scaled_clf"] = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    namespace["scaling"] = make_pipeline(StandardScaler()).fit(X)
    with jupyter_mlops.track(name="fits", workspace=workspace) as run:
        logged = estimators.log_fitted_models(run, before, namespace)
    assert sorted(logged) == ["clf", "scaled_clf"]
    run_id = run.wait_synced()
    tags = client_for(workspace).get_run(run_id).data.tags
    assert (
        tags[estimators.FITTED_WITHOUT_PREDICT_TAG] == "scaler (StandardScaler), scaling (Pipeline)"
    )
    assert {k for k in tags if k.startswith("mlops.model.")} == {
        "mlops.model.clf",
        "mlops.model.scaled_clf",
    }
