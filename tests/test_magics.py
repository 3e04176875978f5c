"""%mlops through the real `%load_ext` path in a real IPython shell, on a real store."""

from __future__ import annotations

import json

import pytest
from IPython.core.error import UsageError

from jupyter_mlops.capture import tracker
from jupyter_mlops.store.client import client_for
from jupyter_mlops.store.gateway import gateway_for
from jupyter_mlops.store.runs import get_run, recent_runs


@pytest.fixture
def ip(workspace, mlops_shell):
    return mlops_shell


def _runs(ws):
    tracker.shutdown_recorders()
    return {r["name"]: r for r in recent_runs(gateway_for(ws), limit=50)}


def test_load_ext_is_fast_and_registers_the_magic():
    import subprocess
    import sys

    code = (
        "import time; from IPython.testing.globalipapp import start_ipython; ip = start_ipython();"
        "t = time.perf_counter(); ip.run_line_magic('load_ext', 'jupyter_mlops');"
        "print(time.perf_counter() - t); import sys; print('mlflow' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    seconds, mlflow_loaded = out.stdout.split()
    assert mlflow_loaded == "False", "load_ext must not import mlflow (benchmarks time it)"
    assert float(seconds) > 0


def test_tracked_cell_records_code_literals_metrics_and_model(ip, workspace):
    result = ip.run_cell(
        "%%mlops track --name fit --metrics acc --params X_shape --tags team=vision\n"
        "from sklearn.datasets import load_iris\n"
        "from sklearn.linear_model import LogisticRegression\n"
        "X, y = load_iris(return_X_y=True, as_frame=True)\n"
        "X_shape = X.shape\n"
        "C = 0.5\n"
        "name = 'baseline'\n"
        "clf = LogisticRegression(C=C, max_iter=500).fit(X, y)\n"
        "acc = clf.score(X, y)\n"
        "acc\n"
    )
    assert result.error_in_exec is None
    assert 0.9 < result.result <= 1.0  # the last expression is still the cell's value
    run = _runs(workspace)["fit"]
    assert run["status"] == "FINISHED"
    own = {k: v for k, v in run["params"].items() if not k.startswith("clf.")}
    assert own == {"C": "0.5", "name": "baseline", "X_shape": "(150, 4)"}
    assert run["params"]["clf.C"] == "0.5" and run["params"]["clf.max_iter"] == "500"
    sources = json.loads(run["tags"]["mlops.param_sources"])
    assert sources["C"] == "this cell" and sources["X_shape"] == "--params"
    assert sources["clf.max_iter"] == "model clf"
    assert run["metrics"]["acc"] == pytest.approx(result.result)
    assert run["tags"]["team"] == "vision"
    full = get_run(gateway_for(workspace), run["run_id"])
    assert len(full.outputs.model_outputs) == 1
    assert full.data.tags["mlops.model.clf"].startswith("models:/m-")
    artifacts = {a.path for a in client_for(workspace).list_artifacts(run["run_id"], "mlops")}
    assert {"mlops/cell.py", "mlops/environment.json", "mlops/history.json"} <= artifacts


def test_failing_cell_is_recorded_failed_and_the_error_still_raises(ip, workspace):
    result = ip.run_cell("%%mlops track --name broken\nx = 1\nraise ValueError('bad data')\n")
    assert isinstance(result.error_in_exec, ValueError)
    run = _runs(workspace)["broken"]
    assert run["status"] == "FAILED"
    assert run["tags"]["mlops.error"] == "bad data"


@pytest.mark.parametrize(
    "cell, message",
    [
        ("%%mlops track --tags novalue\nx = 1", "malformed tag"),
        ("%%mlops track --bogus\nx = 1", "unknown option --bogus"),
        ("%%mlops track --metrics 1x\nx = 1", "not a variable name"),
    ],
)
def test_bad_options_are_usage_errors_and_nothing_runs(ip, workspace, cell, message):
    ip.user_ns.pop("x", None)
    result = ip.run_cell(cell)
    error = result.error_in_exec or result.error_before_exec
    assert isinstance(error, UsageError)
    assert message in str(error)
    assert "x" not in ip.user_ns
    assert _runs(workspace) == {}


def test_metric_that_is_not_a_number_is_a_warning_and_the_run_still_finishes(ip, workspace):
    result = ip.run_cell("%%mlops track --name wrong --metrics label\nlabel = 'cat'\n")
    assert result.error_in_exec is None
    run = _runs(workspace)["wrong"]
    assert run["status"] == "FINISHED"
    assert "not a number" in run["tags"]["mlops.warnings"]


def test_session_mode_records_cells_in_the_order_they_ran(ip, workspace):
    ip.run_cell("%mlops track on --name explore")
    ip.run_cell("a = 1")
    ip.run_cell("b = a + 1")
    ip.run_cell("a = 5")  # re-run with another value: recorded, not a crash
    ip.run_cell("import jupyter_mlops; jupyter_mlops.log_metrics(score=0.5)")
    ip.run_cell("%mlops track off")
    run = _runs(workspace)["explore"]
    assert run["kind"] == "session"
    assert run["params"]["a"] == "1"
    history = client_for(workspace).get_metric_history(run["run_id"], "mlops.cell.execution_count")
    counts = [m.value for m in sorted(history, key=lambda m: m.step)]
    assert counts == sorted(counts) and len(counts) == 4
    assert run["metrics"]["score"] == 0.5


def test_track_off_without_on_is_a_usage_error(ip):
    with pytest.raises(UsageError, match="not on"):
        ip.run_line_magic("mlops", "track off")


def test_runs_show_compare_render_widgets(ip, workspace):
    ip.run_cell("%%mlops track --name one --metrics m\nm = 1.0")
    ip.run_cell("%%mlops track --name two --metrics m\nm = 2.0")
    table = ip.run_line_magic("mlops", "runs --sort m")
    assert "two" in table.children[1].value and "one" in table.children[1].value
    shown = ip.run_line_magic("mlops", "show one")
    assert "one" in shown.children[0].value
    compared = ip.run_line_magic("mlops", "compare one two")
    assert "jp-mlops-diff" in compared.children[1].value  # the differing metric is highlighted
    cell_diff = next(c.value for c in compared.children if "cell code" in getattr(c, "value", ""))
    assert "-m = 1.0" in cell_diff and "+m = 2.0" in cell_diff


def test_unknown_run_and_unknown_subcommand_are_one_line_errors(ip):
    with pytest.raises(UsageError, match="no run"):
        ip.run_line_magic("mlops", "show nosuchrun")
    with pytest.raises(UsageError, match="unknown subcommand"):
        ip.run_line_magic("mlops", "frobnicate")


def test_help_lists_every_subcommand(ip, capsys):
    ip.run_line_magic("mlops", "")
    out = capsys.readouterr().out
    for name in ("track", "runs", "show", "compare", "sync"):
        assert f"%mlops {name}" in out or f"%%mlops {name}" in out


def test_html_in_a_run_name_is_shown_as_text(ip, workspace):
    ip.run_cell("%%mlops track --name '<b>bold</b>'\nx = 1")
    table = ip.run_line_magic("mlops", "runs")
    assert "&lt;b&gt;bold&lt;/b&gt;" in table.children[1].value
    assert "<b>bold</b>" not in table.children[1].value


def test_widget_outputs_carry_static_html_for_viewers_without_widgets(ip, workspace):
    ip.run_cell("%%mlops track --name static-one --metrics m\nm = 1.5")
    bundle = ip.run_line_magic("mlops", "runs")._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert "static-one" in bundle["text/html"] and "1.5" in bundle["text/html"]
