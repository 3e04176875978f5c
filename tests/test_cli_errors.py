"""One clear line for every mistake and every outage, through the real CLI and the real magics."""

from __future__ import annotations

import subprocess
import sys
import time
from decimal import Decimal

import pytest
from IPython.core.error import UsageError
from ports import free_port

from jupyter_mlops import cli
from jupyter_mlops.capture.record_checks import metric_value
from jupyter_mlops.errors import InvalidInput


def _cli(*args: str, cwd=None, env=None, timeout=60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "jupyter_mlops.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=timeout,
    )


@pytest.fixture
def ip(workspace, mlops_shell):
    return mlops_shell


@pytest.mark.parametrize("command", ["runs", "sync", "show abcdef12", "experiments"])
def test_an_unreachable_server_is_one_line_within_seconds(workspace, command, monkeypatch):
    url = f"http://127.0.0.1:{free_port()}"
    env = {**__import__("os").environ, "MLFLOW_TRACKING_URI": url}
    started = time.monotonic()
    out = _cli(*command.split(), cwd=workspace.root, env=env)
    assert time.monotonic() - started < 5
    assert out.returncode == 7
    assert out.stderr.count(f"cannot reach the tracking server at {url}") == 1, out.stderr
    assert "Traceback" not in out.stderr


def test_an_unreachable_server_in_the_magic_is_one_usage_error(ip, monkeypatch):
    url = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", url)
    started = time.monotonic()
    with pytest.raises(UsageError, match=f"cannot reach the tracking server at {url}"):
        ip.run_line_magic("mlops", "runs")
    assert time.monotonic() - started < 5


def test_an_unsupported_tracking_uri_names_the_supported_schemes(workspace):
    out = _cli("--tracking-uri", "bogus://x", "runs", cwd=workspace.root)
    assert out.returncode == 2
    assert "unsupported tracking URI 'bogus://x'" in out.stderr
    assert "sqlite:///" in out.stderr and "http(s)://" in out.stderr
    assert "Traceback" not in out.stderr


def test_a_misspelled_option_is_named_with_the_closest_one(workspace, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["runs", "--sortt", "acc"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "unknown option --sortt; did you mean --sort?" in err


def test_options_are_never_abbreviated(workspace, capsys):
    with pytest.raises(SystemExit):
        cli.main(["runs", "--lim", "3"])
    assert "unknown option --lim" in capsys.readouterr().err


def test_a_misspelled_magic_option_is_named_not_taken_for_a_positional(ip):
    ip.user_ns.pop("acc", None)
    result = ip.run_cell("%%mlops track --metrcs acc\nacc = 1")
    error = result.error_in_exec or result.error_before_exec
    assert isinstance(error, UsageError)
    assert "unknown option --metrcs; did you mean --metrics?" in str(error)
    assert "invalid choice" not in str(error)


def test_help_for_an_unknown_subcommand_is_one_usage_error(ip):
    with pytest.raises(UsageError, match="unknown subcommand 'nope'"):
        ip.run_line_magic("mlops", "help nope")
    with pytest.raises(UsageError, match="did you mean 'runs'"):
        ip.run_line_magic("mlops", "help rnus")


def test_a_missing_workspace_folder_is_refused_not_created(tmp_path):
    missing = tmp_path / "nonexistent"
    out = _cli("-C", str(missing), "runs")
    assert out.returncode == 3
    assert "no such folder" in out.stderr
    assert not missing.exists()


def test_an_unexpected_error_is_one_line_and_its_traceback_goes_to_the_debug_log(
    workspace, monkeypatch, capsys, tmp_path
):
    from jupyter_mlops.commands import tracking_calls

    def broken(args):
        raise RuntimeError("disk on fire")

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setattr(tracking_calls, "experiments", broken)
    assert cli.main(["experiments"]) == 1
    err = capsys.readouterr().err
    assert "unexpected error: RuntimeError: disk on fire" in err
    assert "--debug" in err and "Traceback" not in err
    log = tmp_path / "state" / "jupyter-mlops" / "debug.log"
    assert "Traceback" in log.read_text() and "disk on fire" in log.read_text()
    assert cli.main(["--debug", "experiments"]) == 1
    assert "Traceback" in capsys.readouterr().err


def test_a_huge_integer_metric_is_a_clear_error_not_an_overflow():
    with pytest.raises(InvalidInput, match="too large for a float"):
        metric_value("big", 10**400)


def test_a_decimal_metric_is_a_number():
    assert metric_value("price", Decimal("0.25")) == 0.25
    with pytest.raises(InvalidInput, match="too large"):
        metric_value("price", Decimal("1e400"))


def test_serve_of_an_unknown_model_fails_before_saying_serving(workspace):
    out = _cli("serve", "unknownmodel", "--port", str(free_port()), cwd=workspace.root)
    assert out.returncode == 3
    assert "no registered model 'unknownmodel'" in out.stderr
    assert "serving" not in out.stdout


def test_monitor_of_a_model_that_does_not_exist_is_not_found(workspace):
    out = _cli("monitor", "nope", "--no-record", cwd=workspace.root)
    assert out.returncode == 3, out.stdout + out.stderr
    assert "no registered model 'nope'" in out.stderr
    assert out.stdout == ""


def test_monitor_magic_of_a_model_that_does_not_exist_is_one_usage_error(ip):
    with pytest.raises(UsageError, match="no registered model 'nope'"):
        ip.run_line_magic("mlops", "monitor nope --no-record --no-plot")


def test_each_error_kind_exits_with_a_code_of_its_own():
    """A script tells a busy server (429) from a refused permission (403) by the exit code."""
    import inspect

    from jupyter_mlops import errors

    own = {
        cls.__name__: cls.exit_code
        for _, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, errors.MlopsError) and "exit_code" in vars(cls)
    }
    assert len(set(own.values())) == len(own), own
    assert {code: kind.__name__ for code, kind in errors.exit_codes().items()} == {
        code: name for name, code in own.items()
    }
