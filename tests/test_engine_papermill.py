"""``papermill --engine mlops`` behaves like papermill's default engine, and tracks the run.

Checked on papermill's own test notebooks (shipped in its wheel): errors and exit codes,
``sys.exit``, complex parameters, report mode and the content of the output notebook.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import papermill
import pytest
from papermill.exceptions import PapermillExecutionError

from jupyter_mlops.pipeline.engine import register_engine
from jupyter_mlops.store.client import client_for

NOTEBOOKS = Path(papermill.__file__).parent / "tests" / "notebooks"
REPO = Path(__file__).resolve().parents[1]
# the package is not installed in development: register the entry point's engine by hand
PAPERMILL_CLI = (
    "import sys\nfrom jupyter_mlops.pipeline.engine import register_engine\nregister_engine()\n"
    "from papermill.cli import papermill\nsys.exit(papermill())"
)


@pytest.fixture(autouse=True)
def _engine(monkeypatch: pytest.MonkeyPatch) -> None:
    register_engine()
    monkeypatch.setenv("PYTHONPATH", str(REPO))


def _comparable(path: Path) -> list[tuple]:
    """Cells minus what differs between any two runs (timings, ids, tracebacks' addresses)."""
    nb = nbformat.read(path, as_version=4)
    cells = []
    for cell in nb.cells:
        outputs = []
        for out in cell.get("outputs", []):
            out = dict(out)
            out.pop("traceback", None)
            if out.get("output_type") == "execute_result":
                out.pop("execution_count", None)
            outputs.append(repr(sorted(out.items())))
        pm = cell.metadata.get("papermill", {})
        cells.append(
            (
                cell.cell_type,
                cell.source,
                cell.get("execution_count"),
                tuple(outputs),
                pm.get("status"),
                pm.get("exception"),
                tuple(cell.metadata.get("tags", [])),
            )
        )
    params = nb.metadata.get("papermill", {}).get("parameters")
    return [*cells, ("parameters", repr(params))]


def _runs(ws, flt: str = "") -> list:
    client = client_for(ws)
    exps = [e.experiment_id for e in client.search_experiments()]
    return client.search_runs(exps, filter_string=flt)


def _both(tmp_path: Path, name: str, **kwargs) -> tuple[Path, Path, list]:
    errors = []
    outs = []
    for engine in (None, "mlops"):
        out = tmp_path / f"{engine or 'default'}-{name}"
        try:
            papermill.execute_notebook(
                str(NOTEBOOKS / name), str(out), engine_name=engine, progress_bar=False, **kwargs
            )
            errors.append(None)
        except PapermillExecutionError as exc:
            errors.append((exc.cell_index, exc.ename, exc.evalue))
        outs.append(out)
    return outs[0], outs[1], errors


def test_broken_notebook_same_error_and_output(workspace, tmp_path: Path) -> None:
    default, ours, errors = _both(tmp_path, "broken1.ipynb")
    assert errors[0] is not None and errors[0] == errors[1]
    assert _comparable(default) == _comparable(ours)
    runs = _runs(workspace, "tags.`mlops.kind` = 'step'")
    assert len(runs) == 1
    run = runs[0]
    assert run.info.status == "FAILED"
    assert run.data.tags["mlops.error.ename"] == errors[1][1]
    assert int(run.data.tags["mlops.error.cell_index"]) == errors[1][0]
    assert run.data.tags["mlops.source"] == "papermill"


def test_complex_parameters_notebook_behaves_the_same(workspace, tmp_path: Path) -> None:
    default, ours, errors = _both(tmp_path, "complex_parameters.ipynb", parameters={"a": 2.5})
    assert errors[0] == errors[1]
    assert _comparable(default) == _comparable(ours)


def test_complex_parameter_values_and_report_mode(workspace, tmp_path: Path) -> None:
    params = {"msg": "hi", "a": 2.5, "b": [1, "two", None], "c": {"k": True}}
    default, ours, errors = _both(
        tmp_path, "simple_execute.ipynb", parameters=params, report_mode=True
    )
    assert errors == [None, None]
    assert _comparable(default) == _comparable(ours)
    hidden = nbformat.read(ours, as_version=4).cells[0].metadata["jupyter"]["source_hidden"]
    assert hidden is True
    run = _runs(workspace)[0]
    assert run.info.status == "FINISHED"
    assert run.data.params["b"] == '[1, "two", null]' and run.data.params["a"] == "2.5"
    artifacts = [f.path for f in client_for(workspace).list_artifacts(run.info.run_id, "notebook")]
    assert artifacts == ["notebook/simple_execute.ipynb"]


@pytest.mark.parametrize("name", ["sysexit0.ipynb", "sysexit1.ipynb", "systemexit.ipynb"])
def test_sys_exit_like_default(workspace, tmp_path: Path, name: str) -> None:
    default, ours, errors = _both(tmp_path, name)
    assert errors[0] == errors[1]
    assert _comparable(default) == _comparable(ours)
    run = _runs(workspace)[0]
    assert run.info.status == ("FINISHED" if errors[1] is None else "FAILED")


def test_cli_exit_codes_match(workspace, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    codes = {}
    for engine in ("nbclient", "mlops"):
        for name in ("simple_execute.ipynb", "broken1.ipynb"):
            proc = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    PAPERMILL_CLI,
                    "--engine",
                    engine,
                    "--no-progress-bar",
                    str(NOTEBOOKS / name),
                    str(tmp_path / f"{engine}-{name}"),
                    "-p",
                    "msg",
                    "x",
                ],
                cwd=workspace.root,
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
            )
            codes[(engine, name)] = proc.returncode
    assert (
        codes[("mlops", "simple_execute.ipynb")] == codes[("nbclient", "simple_execute.ipynb")] == 0
    )
    assert codes[("mlops", "broken1.ipynb")] == codes[("nbclient", "broken1.ipynb")] == 1
    runs = _runs(workspace)
    assert sorted(r.info.status for r in runs) == ["FAILED", "FINISHED"]


def test_untracked_when_store_is_broken(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A tracking failure is a warning: the notebook still runs exactly as papermill runs it."""
    (tmp_path / "not-a-folder").write_text("")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/not-a-folder/mlflow.db")
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOKS / "simple_execute.ipynb"),
        str(out),
        engine_name="mlops",
        progress_bar=False,
        parameters={"msg": "x"},
    )
    nb = nbformat.read(out, as_version=4)
    assert any(c.get("outputs") for c in nb.cells if c.cell_type == "code")


@pytest.mark.parametrize("where", ["environment", "mlops.yaml"])
def test_engine_tracking_off_executes_without_a_run(
    workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """The engine_tracking setting (MLOPS_ENGINE_TRACKING, or settings.engine_tracking):
    false runs the notebook as papermill's own engine would, and records nothing."""
    if where == "environment":
        monkeypatch.setenv("MLOPS_ENGINE_TRACKING", "0")
    else:
        (workspace.root / "mlops.yaml").write_text("settings:\n  engine_tracking: false\n")
    out = tmp_path / "untracked.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOKS / "simple_execute.ipynb"), str(out), engine_name="mlops", progress_bar=False
    )
    executed = nbformat.read(out, as_version=4)
    assert not executed.metadata["papermill"].get("exception")
    assert all(c.execution_count for c in executed.cells if c.cell_type == "code")
    assert _runs(workspace) == []
