"""The example notebook end to end: dataset versions, a lineage picture, a verified reproduction
and a hidden-state warning, executed headless through papermill like `make demo` does."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest

from jupyter_mlops.store.client import client_for
from jupyter_mlops.store.gateway import gateway_for
from jupyter_mlops.store.runs import recent_runs

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "example_notebooks" / "02_datasets_lineage.ipynb"


@pytest.mark.slow
def test_example_notebook_shows_versions_lineage_and_a_reproduced_verdict(workspace, monkeypatch):
    import papermill

    target = workspace.root / NOTEBOOK.name
    shutil.copy(NOTEBOOK, target)
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    monkeypatch.setenv("MLOPS_WORKSPACE", str(workspace.root))
    monkeypatch.setenv("MLOPS_NOTEBOOK_PATH", str(target))
    out = workspace.root / "out.ipynb"
    papermill.execute_notebook(str(target), str(out), cwd=str(workspace.root), progress_bar=False)
    nb = nbformat.read(out, as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert any("image/svg+xml" in o.get("data", {}) for o in outputs), "no lineage picture"
    texts = " ".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
    assert "cells ran out of order" in texts
    runs = {r["name"]: r for r in recent_runs(gateway_for(workspace), limit=50)}
    train = client_for(workspace).get_run(runs["train-wine"]["run_id"])
    assert train.data.tags["mlops.reproduction.verdict"] == "reproduced"
    assert {d.dataset.name for d in train.inputs.dataset_inputs} >= {
        "raw",
        "wine-train",
        "wine-test",
    }
    assert "mlops.hidden_state" in runs["thresholded"]["tags"]
