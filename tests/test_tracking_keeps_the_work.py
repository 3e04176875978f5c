"""Tracking never costs the user their work: a problem of tracking itself becomes a recorded
warning, the cell's code still runs and its results are kept."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from notebook_support import make_notebook

from jupyter_mlops.capture import tracker
from jupyter_mlops.store.gateway import gateway_for
from jupyter_mlops.store.runs import get_run, recent_runs


@pytest.fixture
def ip(workspace, mlops_shell):
    return mlops_shell


def _runs(ws):
    tracker.shutdown_recorders()
    return {r["name"]: r for r in recent_runs(gateway_for(ws), limit=50)}


def test_a_metric_typo_keeps_the_run_with_what_exists_and_suggests_the_name(ip, workspace, capsys):
    result = ip.run_cell(
        "%%mlops track --name typo --metrics acuracy,loss\n"
        "from sklearn.linear_model import LogisticRegression\n"
        "clf = LogisticRegression().fit([[0], [1], [0], [1]], [0, 1, 0, 1])\n"
        "accuracy = 0.75\n"
        "loss = 0.5\n"
    )
    assert result.error_in_exec is None and result.error_before_exec is None
    assert ip.user_ns["accuracy"] == 0.75
    err = capsys.readouterr().err
    assert "did you mean 'accuracy'" in err
    run = _runs(workspace)["typo"]
    assert run["status"] == "FINISHED"
    assert run["metrics"]["loss"] == 0.5
    assert "acuracy" in run["tags"]["mlops.warnings"]
    full = get_run(gateway_for(workspace), run["run_id"])
    assert len(full.outputs.model_outputs) == 1  # the fitted model is kept too


def test_a_metric_that_is_not_a_number_is_a_warning_not_a_failed_cell(ip, workspace, capsys):
    result = ip.run_cell(
        "%%mlops track --name label --metrics label,score\nlabel = 'cat'\nscore = 1\n"
    )
    assert result.error_in_exec is None
    assert "not a number" in capsys.readouterr().err
    run = _runs(workspace)["label"]
    assert run["status"] == "FINISHED" and run["metrics"]["score"] == 1.0


def test_duplicate_column_names_never_fail_the_cell(ip, workspace, capsys):
    ip.run_cell("import pandas as pd\ndup = pd.DataFrame([[1, 2], [3, 4]], columns=['a', 'a'])")
    result = ip.run_cell(
        "%%mlops track --name dup --metrics total\ntotal = int(dup.values.sum())\n"
    )
    assert result.error_in_exec is None
    run = _runs(workspace)["dup"]
    assert run["status"] == "FINISHED"
    assert run["metrics"]["total"] == 10.0


def test_dataset_capture_that_raises_becomes_a_recorded_warning(ip, workspace, monkeypatch):
    from jupyter_mlops.datasets import cell_inputs

    def broken(*args, **kwargs):
        raise RuntimeError("profile exploded")

    monkeypatch.setattr(cell_inputs, "describe", broken)
    ip.run_cell("import pandas as pd\nframe = pd.DataFrame({'x': [1, 2]})")
    result = ip.run_cell("%%mlops track --name broken-capture\nn = len(frame)\n")
    assert result.error_in_exec is None
    run = _runs(workspace)["broken-capture"]
    assert run["status"] == "FINISHED"
    assert "profile exploded" in run["tags"]["mlops.warnings"]


def test_the_cell_runs_when_tracking_cannot_write_its_folder(tmp_path, mlops_shell, monkeypatch):
    root = tmp_path / "readonly-project"
    root.mkdir()
    (root / ".mlops").write_text("a file where the state folder should be")
    for var in ("MLFLOW_TRACKING_URI", "MLOPS_EXPERIMENT"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("MLOPS_WORKSPACE", str(root))
    monkeypatch.chdir(root)
    mlops_shell.user_ns.pop("acc", None)
    with _captured_stderr() as err:
        result = mlops_shell.run_cell("%%mlops track --metrics acc\nacc = 0.5\nacc\n")
    assert result.error_in_exec is None and result.result == 0.5
    assert mlops_shell.user_ns["acc"] == 0.5
    lines = [ln for ln in err.getvalue().splitlines() if ln.strip()]
    assert len(lines) == 1, lines
    assert "tracking is off" in lines[0] and ".mlops" in lines[0]


def test_a_real_read_only_folder_runs_the_cell(tmp_path):
    """The same on a read-only mount, where the kernel's user cannot create anything."""
    if sys.platform != "linux" or os.geteuid() != 0:
        pytest.skip("needs root to mount a read-only tmpfs")
    mount = tmp_path / "ro"
    mount.mkdir()
    script = (
        "from IPython.testing.globalipapp import start_ipython; ip = start_ipython();"
        "ip.run_line_magic('load_ext', 'jupyter_mlops');"
        "r = ip.run_cell('%%mlops track --metrics acc\\nacc = 0.5\\n');"
        "print('ACC', ip.user_ns.get('acc'), r.error_in_exec)"
    )
    shell = (
        f"mount -t tmpfs -o ro tmpfs {mount} && cd {mount} && "
        f'MLOPS_WORKSPACE={mount} {sys.executable} -c "{script}"'
    )
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("no mount namespaces here")
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    out = subprocess.run(
        ["unshare", "-m", "sh", "-c", shell], capture_output=True, text=True, env=env, timeout=120
    )
    if "mount:" in out.stderr and "ACC" not in out.stdout:
        pytest.skip(f"cannot mount here: {out.stderr.strip()}")
    assert "ACC 0.5 None" in out.stdout, out.stdout + out.stderr
    lines = [ln for ln in out.stderr.splitlines() if "mlops" in ln]
    assert len(lines) == 1 and "tracking is off" in lines[0], out.stderr
    assert "Read-only file system" in lines[0]


class _captured_stderr:
    def __enter__(self):
        import io

        self.buffer = io.StringIO()
        self.old = sys.stderr
        sys.stderr = self.buffer
        return self.buffer

    def __exit__(self, *exc):
        sys.stderr = self.old


def test_the_injected_parameters_cell_is_not_hidden_state(workspace):
    import papermill

    nb = make_notebook(
        workspace.root / "param.ipynb",
        "alpha = 0.1",
        "%load_ext jupyter_mlops",
        "%%mlops track --name uses-alpha --metrics score\nscore = alpha * 2",
    )
    env = {"MLOPS_NOTEBOOK_PATH": str(nb)}
    os.environ.update(env)
    try:
        papermill.execute_notebook(
            str(nb),
            str(workspace.root / "param.out.ipynb"),
            cwd=str(workspace.root),
            parameters={"alpha": 0.25},
            engine_name="mlops",
            progress_bar=False,
        )
    finally:
        os.environ.pop("MLOPS_NOTEBOOK_PATH", None)
    run = _runs(workspace)["uses-alpha"]
    assert run["metrics"]["score"] == 0.5
    assert "mlops.hidden_state" not in run["tags"]


def test_hidden_state_ignores_papermills_injected_cell_but_not_a_deleted_one():
    from jupyter_mlops.capture.hidden_state import hidden_state_warnings

    notebook = ["alpha = 0.1", "score = alpha * 2"]
    injected = [(1, "alpha = 0.1"), (2, "# Parameters\nalpha = 0.25\n"), (3, "score = alpha * 2")]
    assert hidden_state_warnings(injected, "score = alpha * 2", notebook) == []
    deleted = [(1, "alpha = 0.1"), (2, "alpha = 0.25"), (3, "score = alpha * 2")]
    assert hidden_state_warnings(deleted, "score = alpha * 2", notebook)


def test_a_usage_error_in_a_kernel_reaches_papermills_error(workspace):
    import papermill
    from papermill.exceptions import PapermillExecutionError

    nb = make_notebook(
        workspace.root / "bad.ipynb",
        None,
        "%load_ext jupyter_mlops",
        "%%mlops track --bogus\nx = 1",
    )
    with pytest.raises(PapermillExecutionError) as info:
        papermill.execute_notebook(
            str(nb),
            str(workspace.root / "bad.out.ipynb"),
            cwd=str(workspace.root),
            progress_bar=False,
            engine_name="mlops",
        )
    assert info.value.ename == "UsageError"
    assert "unknown option --bogus" in info.value.evalue


def test_the_build_table_note_carries_a_message_without_an_error_output():
    from nbformat.v4 import new_code_cell, new_notebook, new_output

    from jupyter_mlops.pipeline.outcome import notebook_outcome

    cell = new_code_cell("%mlops frobnicate")
    cell.metadata["papermill"] = {"exception": True, "status": "failed"}
    cell.outputs = [new_output("stream", name="stderr", text="UsageError: unknown thing\n")]
    outcome = notebook_outcome(new_notebook(cells=[cell]))
    assert outcome.error["ename"] == "UsageError"
    assert outcome.error["evalue"] == "unknown thing"


def test_the_first_cells_duration_is_only_the_users_code(workspace):
    """A fresh kernel's first tracked cell pays for starting the journal; its metric must not."""
    import papermill

    nb = make_notebook(
        workspace.root / "timing.ipynb",
        None,
        "%load_ext jupyter_mlops",
        "%%mlops track --name timed --metrics acc\nimport time\ntime.sleep(0.3)\nacc = 0.9",
    )
    papermill.execute_notebook(
        str(nb),
        str(workspace.root / "timing.out.ipynb"),
        cwd=str(workspace.root),
        progress_bar=False,
    )
    run = _runs(workspace)["timed"]
    assert 0.3 <= run["metrics"]["mlops.cell_duration_s"] < 1.0  # it was 3-6 s


def test_a_usage_error_in_a_build_step_carries_its_message_to_the_step_note(workspace, monkeypatch):
    from pathlib import Path

    from jupyter_mlops.pipeline.build import build
    from jupyter_mlops.pipeline.progress import format_table

    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).resolve().parents[1]))
    make_notebook(
        workspace.root / "step.ipynb",
        "alpha = 0.1",
        "%load_ext jupyter_mlops",
        "%%mlops track --metrcs score\nscore = alpha",
    )
    (workspace.root / "mlops.yaml").write_text("steps:\n  s:\n    notebook: step.ipynb\n")
    report = build(workspace=workspace, progress=False, wait=True)
    step = report.step("s")
    assert step.status == "failed"
    assert step.error["ename"] == "UsageError"
    assert "unknown option --metrcs; did you mean --metrics?" in step.error["evalue"]
    assert "UsageError: %mlops track: unknown option --metrcs" in format_table(report)
