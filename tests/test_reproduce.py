"""Reproduction in fresh kernels: a deterministic notebook reproduces, a random one differs."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from jupyter_mlops.cli import main
from jupyter_mlops.commands.texts import reproduction_text
from jupyter_mlops.errors import NotFound
from jupyter_mlops.journal.replay import recover
from jupyter_mlops.reproduce.rerun import VERDICT_TAG, changed_input_files, reproduce
from jupyter_mlops.store.client import client_for, experiment_id
from jupyter_mlops.store.gateway import gateway_for
from jupyter_mlops.store.run_details import read_json_artifact
from jupyter_mlops.store.runs import recent_runs

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def kernel_env(workspace, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    monkeypatch.setenv("MLOPS_WORKSPACE", str(workspace.root))
    return workspace


def _run_notebook(ws, name: str, *sources: str, parameters: str | None = None) -> dict:
    import papermill

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    if parameters:
        cell = nbformat.v4.new_code_cell(parameters)
        cell.metadata["tags"] = ["parameters"]
        nb.cells.append(cell)
    nb.cells += [nbformat.v4.new_code_cell(s) for s in sources]
    path = ws.root / f"{name}.ipynb"
    nbformat.write(nb, path)
    import os

    os.environ["MLOPS_NOTEBOOK_PATH"] = str(path)
    try:
        papermill.execute_notebook(
            str(path), str(ws.root / f"{name}.out.ipynb"), cwd=str(ws.root), progress_bar=False
        )
    finally:
        os.environ.pop("MLOPS_NOTEBOOK_PATH", None)
    recover(ws)
    [run] = [r for r in recent_runs(gateway_for(ws), limit=50) if r["name"] == name]
    return run


DATA = (
    "import numpy as np, pandas as pd\n"
    "pd.DataFrame({'x': np.arange(30.0), 'y': np.arange(30) % 3}).to_csv('data.csv', index=False)"
)


def test_a_deterministic_notebook_is_reproduced_and_linked(kernel_env):
    ws = kernel_env
    original = _run_notebook(
        ws,
        "steady",
        "%load_ext jupyter_mlops",
        DATA,
        "%%mlops track --name steady --metrics score\n"
        "df = pd.read_csv('data.csv')\n"
        "score = float((df.x * scale).mean())",
        parameters="scale = 2.0",
    )
    assert original["metrics"]["score"] == pytest.approx(29.0)
    result = reproduce(gateway_for(ws), original["run_id"])
    assert result.verdict == "reproduced", reproduction_text(result)
    assert result.metrics["score"] == (29.0, 29.0) and not result.notes
    client = client_for(ws)
    assert client.get_run(original["run_id"]).data.tags[VERDICT_TAG] == "reproduced"
    repro = client.get_run(result.run_id)
    assert repro.data.tags["mlops.kind"] == "reproduction"
    assert repro.data.tags["mlops.reproduces"] == original["run_id"]
    report = read_json_artifact(gateway_for(ws), result.run_id, "mlops/reproduction.json")
    assert report["verdict"] == "reproduced" and report["matched_run_id"]
    # the reproduced cell read the same dataset version
    matched = client.get_run(report["matched_run_id"])
    digests = {d.dataset.digest for d in matched.inputs.dataset_inputs}
    first = client.get_run(original["run_id"])
    assert digests == {d.dataset.digest for d in first.inputs.dataset_inputs} and digests
    # had the data file changed, the report would say which and how to get the recorded version
    (ws.root / "data.csv").write_text("x,y\n1,2\n")
    (note,) = changed_input_files(ws, first)
    assert "data.csv changed since the run" in note and "load_dataset(" in note


def test_a_nondeterministic_notebook_differs_and_says_which_metric(kernel_env):
    ws = kernel_env
    original = _run_notebook(
        ws,
        "noisy",
        "%load_ext jupyter_mlops",
        "%%mlops track --name noisy --metrics score,fixed\n"
        "import numpy as np\n"
        "score = float(np.random.default_rng().random())\n"
        "fixed = 1.0",
    )
    result = reproduce(gateway_for(ws), original["run_id"])
    assert result.verdict == "differs"
    assert any(r.startswith("metric score") for r in result.reasons)
    assert not any("metric fixed" in r for r in result.reasons)
    assert client_for(ws).get_run(original["run_id"]).data.tags[VERDICT_TAG] == "differs"


def test_a_failing_reproduction_and_a_run_without_code(kernel_env):
    ws = kernel_env
    client = client_for(ws)
    # a run recorded by hand, whose recorded history no longer runs (the data file is gone)
    run = client.create_run(experiment_id(ws), run_name="fragile", tags={"mlops.kind": "cell"})
    history = [
        {"execution_count": 1, "source": "x = 1"},
        {"execution_count": 2, "source": "n = len(open('gone.txt').read())"},
    ]
    client.log_text(run.info.run_id, json.dumps(history), "mlops/history.json")
    client.log_metric(run.info.run_id, "n", 3.0)
    client.set_terminated(run.info.run_id)
    result = reproduce(gateway_for(ws), run.info.run_id)
    assert result.verdict == "failed"
    assert "cell 2 raised FileNotFoundError" in result.reasons[0]
    assert client.get_run(result.run_id).info.status == "FAILED"
    assert client.get_run(run.info.run_id).data.tags[VERDICT_TAG] == "failed"
    bare = client.create_run(experiment_id(ws))
    with pytest.raises(NotFound, match="no notebook"):
        reproduce(gateway_for(ws), bare.info.run_id)
    assert main(["-C", str(ws.root), "reproduce", bare.info.run_id]) == NotFound.exit_code


USER_MLFLOW = (
    "%%mlops track --name registers --metrics score\n"
    "import mlflow\n"
    "from mlflow import MlflowClient\n"
    "with mlflow.start_run(run_name='own-run') as own:\n"
    "    mlflow.log_metric('own_metric', 2.0)\n"
    "    mlflow.log_text('a model', 'model/README.txt')\n"
    "client = MlflowClient()\n"
    "if not client.search_registered_models(filter_string=\"name = 'sandboxed'\"):\n"
    "    client.create_registered_model('sandboxed')\n"
    "version = client.create_model_version(\n"
    "    'sandboxed', source=own.info.artifact_uri + '/model', run_id=own.info.run_id\n"
    ")\n"
    "client.set_registered_model_alias('sandboxed', 'champion', version.version)\n"
    "score = 1.0"
)


def test_the_users_own_mlflow_calls_land_in_the_workspace_and_reproduce_sandboxes_them(
    kernel_env,
):
    """After %load_ext, mlflow.start_run() and the registry write to the workspace's store (not
    ./mlflow.db); reproducing that code registers nothing for real and says what it tried."""
    ws = kernel_env
    original = _run_notebook(ws, "registers", "%load_ext jupyter_mlops", USER_MLFLOW)
    assert not (ws.root / "mlflow.db").exists() and not (ws.root / "mlruns").exists()
    client = client_for(ws)
    [own] = client.search_runs(
        [e.experiment_id for e in client.search_experiments()], "attributes.run_name = 'own-run'"
    )
    assert own.data.metrics["own_metric"] == 2.0
    assert [str(v.version) for v in client.search_model_versions("name = 'sandboxed'")] == ["1"]
    result = reproduce(gateway_for(ws), original["run_id"])
    assert result.verdict == "reproduced", reproduction_text(result)
    assert result.registry_writes == ["register sandboxed version 1, alias champion"]
    assert "not applied to the registry: register sandboxed version 1" in reproduction_text(result)
    assert [str(v.version) for v in client.search_model_versions("name = 'sandboxed'")] == ["1"]
    aliases = client.get_registered_model("sandboxed").aliases
    assert {k: str(v) for k, v in aliases.items()} == {"champion": "1"}
    tags = client.get_run(result.run_id).data.tags
    assert tags["mlops.reproduction.registry_writes"] == result.registry_writes[0]
