"""The release through the CLI and through %mlops: run -> candidate -> champion -> canary -> back."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError
from release_support import fit_model, log_model_run, make_data

from jupyter_mlops.cli import main
from jupyter_mlops.store.client import client_for

POLICY = """\
project: cli-test
release:
  model: churn
  intended_use: Demo of the release CLI.
  evaluation: {path: eval.csv, target: label}
  gates:
    metrics: {accuracy: {min: 0.75}}
    champion: {metric: accuracy, min_delta: -0.02}
    signature: true
"""


@pytest.fixture
def project(workspace):
    (workspace.root / "mlops.yaml").write_text(POLICY)
    make_data(300, seed=1).to_csv(workspace.root / "eval.csv", index=False)
    df = make_data(500)
    runs = [
        log_model_run(workspace, fit_model(df, k), df, name=k)[0] for k in ("good", "good", "bad")
    ]
    return workspace, runs


def aliases(ws):
    return {k: str(v) for k, v in client_for(ws).get_registered_model("churn").aliases.items()}


def cli(ws, *args):
    return main(["-C", str(ws.root), *args])


def test_cli_release_round_trip(project, capsys, tmp_path, monkeypatch):
    ws, (good1, good2, bad) = project
    monkeypatch.setenv("MLOPS_ACTOR", "ci-bot")
    for run in (good1, good2, bad):
        assert cli(ws, "register", run) == 0
    assert "registered churn v3" in capsys.readouterr().out
    assert cli(ws, "validate", "churn", "1") == 0
    assert cli(ws, "validate", "churn", "2") == 0
    assert cli(ws, "promote", "churn", "1", "--to", "champion") == 0
    assert cli(ws, "validate", "churn", "3") == 5  # worse than the champion
    out = capsys.readouterr().out
    assert "gates FAILED" in out and "champion" in out
    before = aliases(ws)
    assert cli(ws, "promote", "churn", "3", "--to", "canary") == 5
    assert "gates are failed" in capsys.readouterr().err
    assert cli(ws, "promote", "churn", "2", "--to", "canary", "--weight", "150") == 2
    assert cli(ws, "promote", "nope", "2", "--to", "canary") == 3
    assert aliases(ws) == before
    assert cli(ws, "promote", "churn", "2", "--to", "canary", "--weight", "20") == 0
    assert "canary=v2" in capsys.readouterr().out
    assert cli(ws, "weight", "churn", "35", "--reason", "more traffic") == 0
    assert "canary_weight=35%" in capsys.readouterr().out and aliases(ws)["canary"] == "2"
    assert cli(ws, "weight", "churn", "101") == 2
    assert cli(ws, "promote", "churn", "2", "--to", "champion", "--reason", "canary healthy") == 0
    assert aliases(ws)["champion"] == "2" and aliases(ws)["previous"] == "1"
    assert cli(ws, "rollback", "churn", "--reason", "complaints") == 0
    assert aliases(ws)["champion"] == "1"
    capsys.readouterr()
    assert cli(ws, "history", "churn") == 0
    trail = capsys.readouterr().out
    for word in (
        "register",
        "gate",
        "promote",
        "rollback",
        "ci-bot",
        "complaints",
        "canary healthy",
        "more traffic",
    ):
        assert word in trail
    assert cli(ws, "card", "churn@champion", "--print") == 0
    card = capsys.readouterr().out
    assert "# Model card: churn v1" in card and "Demo of the release CLI." in card
    assert "## Gate results" in card and "metrics.accuracy" in card
    assert cli(ws, "package", "churn", "1", "--out", str(tmp_path / "pkg")) == 0
    assert (tmp_path / "pkg" / "Dockerfile").exists()


@pytest.fixture
def ip(project, mlops_shell):
    return mlops_shell


def test_magics_release_round_trip(ip, project, capsys):
    ws, (good1, good2, bad) = project
    for run in (good1, good2):
        ip.run_line_magic("mlops", f"register {run}")
    ip.run_line_magic("mlops", "validate churn 1")
    ip.run_line_magic("mlops", "validate churn 2")
    ip.run_line_magic("mlops", "promote churn 1 --to champion")
    ip.run_line_magic("mlops", "promote churn 2 --to canary --weight 10")
    assert aliases(ws)["canary"] == "2"
    ip.run_line_magic("mlops", "weight churn 25")
    assert "canary_weight=25%" in capsys.readouterr().out
    ip.run_line_magic("mlops", "rollback churn --reason 'latency spike'")
    assert "canary" not in aliases(ws)
    capsys.readouterr()
    ip.run_line_magic("mlops", "history churn")
    assert "latency spike" in capsys.readouterr().out
    ip.run_line_magic("mlops", "card churn@champion")
    with pytest.raises(UsageError, match="between 0 and 100"):
        ip.run_line_magic("mlops", "promote churn 2 --to canary --weight 101")
    with pytest.raises(UsageError, match="no alias 'staging'"):
        ip.run_line_magic("mlops", "card churn@staging")
