"""What the user sees in a notebook: their own errors as IPython shows them, ours in one line."""

from __future__ import annotations

import io
import re
import sys
from contextlib import redirect_stdout

import pytest

from jupyter_mlops.capture import tracker
from jupyter_mlops.store.gateway import gateway_for
from jupyter_mlops.store.runs import recent_runs


@pytest.fixture
def ip(workspace, mlops_shell):
    return mlops_shell


class _Shown:
    """Everything IPython printed (tracebacks go to stdout in the test shell, usage to stderr)."""

    def __enter__(self):
        self.out, self.err = io.StringIO(), io.StringIO()
        self._old = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = self.out, self.err
        return self

    def __exit__(self, *exc):
        sys.stdout, sys.stderr = self._old

    @property
    def text(self) -> str:
        return self.out.getvalue() + self.err.getvalue()


def test_a_syntax_error_in_a_tracked_cell_shows_no_frames_of_ours(ip, workspace):
    with _Shown() as shown:
        result = ip.run_cell("%%mlops track --name broken-syntax\nx = (1,\ny = 2\n")
    assert isinstance(result.error_in_exec, SyntaxError)
    assert "SyntaxError" in shown.text and "never closed" in shown.text
    assert "jupyter_mlops" not in shown.text and "run_cell_magic" not in shown.text
    assert not ip.custom_exceptions  # the one-shot handler is gone
    tracker.shutdown_recorders()
    assert [r for r in recent_runs(gateway_for(workspace)) if r["name"] == "broken-syntax"] == []
    with _Shown() as shown:  # other errors keep IPython's usual traceback
        result = ip.run_cell("1 / 0")
    assert isinstance(result.error_in_exec, ZeroDivisionError) and "----> 1" in shown.text


@pytest.mark.parametrize(
    "call",
    ["jupyter_mlops.log_metrics(acc=0.5)", "jupyter_mlops.log_model(object())"],
)
def test_logging_outside_a_run_warns_once_naming_the_cell_line(ip, call):
    tracker._warned_untracked.clear()
    with pytest.warns(tracker.UntrackedCall, match="no run is being tracked") as caught:
        result = ip.run_cell(f"import jupyter_mlops\nx = 1\n{call}\n{call}\n")
    assert result.error_in_exec is None  # instrumented code runs untracked
    assert len(caught) == 1 and caught[0].lineno == 3


def test_reload_ext_keeps_session_tracking_going(ip, workspace):
    ip.run_cell("%mlops track on --name kept")
    ip.run_cell("a = 1")
    with redirect_stdout(io.StringIO()) as out:
        ip.run_line_magic("reload_ext", "jupyter_mlops")
    assert "session tracking continues" in out.getvalue()
    ip.run_cell("b = 2")
    ip.run_cell("%mlops track off")
    tracker.shutdown_recorders()
    [run] = [r for r in recent_runs(gateway_for(workspace)) if r["name"] == "kept"]
    assert run["status"] == "FINISHED"
    assert run["params"] == {"a": "1", "b": "2"}


def test_unload_ext_ends_a_session_with_a_word(ip, workspace):
    ip.run_cell("%mlops track on --name unloaded")
    with redirect_stdout(io.StringIO()) as out:
        ip.run_line_magic("unload_ext", "jupyter_mlops")
    assert "session tracking off" in out.getvalue()
    ip.run_line_magic("load_ext", "jupyter_mlops")
    tracker.shutdown_recorders()
    [run] = [r for r in recent_runs(gateway_for(workspace)) if r["name"] == "unloaded"]
    assert run["status"] == "FINISHED"


def test_default_run_names_carry_a_kernel_id_so_restarts_do_not_repeat_them(ip, workspace):
    ip.run_cell("%%mlops track\nx = 1")
    tracker.shutdown_recorders()
    [run] = recent_runs(gateway_for(workspace))
    assert re.fullmatch(r"cell-\d+-[0-9a-f]{4}", run["name"]), run["name"]


def test_a_dataset_that_cannot_be_snapshotted_says_so_and_why(ip, workspace, capsys):
    import pandas as pd

    ip.user_ns["mixed"] = pd.DataFrame({"v": [1, "a", 2.5, b"x"], "n": [1, 2, 3, 4]})
    version = ip.run_line_magic("mlops", "dataset mixed")
    out = capsys.readouterr().out
    assert version.file_hash is None
    assert "stored" not in out.splitlines()[0]
    assert "no snapshot of mixed was stored, so it cannot be loaded back" in out
    assert "column v" in out and ".astype(str)" in out
    ip.user_ns["plain"] = pd.DataFrame({"n": [1, 2, 3]})
    assert ip.run_line_magic("mlops", "dataset plain").file_hash is not None
    assert "warning" not in capsys.readouterr().out


def test_show_of_a_failed_run_shows_its_error_in_the_notebook_too(ip, workspace):
    ip.run_cell("%%mlops track --name fell-over\nraise KeyError('label')")
    tracker.shutdown_recorders()
    shown = ip.run_line_magic("mlops", "show fell-over")
    assert "error:" in shown.children[0].value and "KeyError" in shown.children[0].value
    assert "&#x27;label&#x27;" in shown.children[0].value
