"""`jupyter-mlops ci` on the example project, through the real CLI: a first pull request passes
and becomes the champion; a planted regression fails, exits non-zero and its report names the
gate. `init --ci` writes the workflow that runs it."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from platform_support import example_copy

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def cli(project: Path, *args: str, actor: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "MLOPS_"))}
    if actor:
        env["MLOPS_ACTOR"] = actor
    env["PYTHONPATH"] = str(REPO)  # the kernels import the package under test
    return subprocess.run(
        [sys.executable, "-m", "jupyter_mlops.cli", "-C", str(project), *args],
        capture_output=True, text=True, timeout=900, env=env,
    )  # fmt: skip


@pytest.fixture(scope="module")
def project(tmp_path_factory, cached_db):
    """The example project on a fresh embedded store, after a first `ci` whose candidate was
    then promoted to champion (the state of main before the pull request)."""
    folder = example_copy(tmp_path_factory.mktemp("ci") / "project", loop=False)
    state = folder / ".mlops"
    state.mkdir()
    shutil.copy(cached_db, state / "mlflow.db")
    with sqlite3.connect(state / "mlflow.db") as con:
        con.execute(
            "UPDATE experiments SET artifact_location = ? WHERE experiment_id = 0",
            ((state / "artifacts" / "Default").as_uri(),),
        )
    first = cli(folder, "ci", "--out", "reports/ci-report.md")
    assert first.returncode == 0, first.stdout + first.stderr
    # champion is protected: alice approves, as the example's policy asks
    asked = cli(folder, "request-approval", "breast-cancer", "1")
    assert asked.returncode == 0, asked.stderr
    approved = cli(folder, "approve", "breast-cancer", "1", actor="alice")
    assert approved.returncode == 0, approved.stderr
    promoted = cli(folder, "promote", "breast-cancer", "1", "--to", "champion")
    assert promoted.returncode == 0, promoted.stderr
    return folder, first


def test_a_first_pull_request_passes_with_a_full_report(project):
    folder, first = project
    assert "gates PASSED" in first.stdout
    assert first.stderr == ""
    report = (folder / "reports" / "ci-report.md").read_text()
    assert report.startswith("## breast-cancer v1: gates PASSED")
    assert "the model of step `train`" in report  # the sweep's best trial
    assert "### Build: 3 ran, 0 cached" in report
    assert "| train | ran |" in report and "4 trials" in report
    assert "| metrics.accuracy | pass |" in report
    assert "no champion to compare the training data with" in report
    assert (folder / "reports" / "ci-metrics.png").read_bytes()[:4] == b"\x89PNG"


def test_a_planted_regression_fails_and_the_report_names_the_gate(project):
    folder, _ = project
    spec = folder / "mlops.yaml"
    spec.write_text(spec.read_text().replace("C: [0.01, 0.1, 1.0, 10.0]", "C: [0.00001]"))
    proc = cli(folder, "ci", "--out", "reports/ci-report.md")
    assert proc.returncode == 5, proc.stdout + proc.stderr
    assert "gates FAILED" in proc.stdout
    report = (folder / "reports" / "ci-report.md").read_text()
    headline = report.splitlines()[0]
    assert headline.startswith("## breast-cancer v2: gates FAILED (")
    assert "champion" in headline and "metrics.accuracy" in headline
    assert "| champion | **FAIL** |" in report
    assert "vs champion v1" in report
    accuracy = next(line for line in report.splitlines() if line.startswith("| accuracy |"))
    candidate, champion, delta = (float(c) for c in accuracy.strip("|").split("|")[1:4])
    assert candidate < 0.9 < champion and delta == pytest.approx(candidate - champion, abs=1e-3)
    # only what the branch changed ran: the data preparation came from the cache
    assert "### Build: 1 ran, 2 cached" in report or "### Build: 2 ran, 1 cached" in report
    assert "| prepare | cached |" in report
    # the training data is the champion's: nothing drifted
    assert "0 of 30 features drifted" in report
    assert (folder / "reports" / "ci-drift.png").exists()


def test_init_writes_ci_workflows_that_run_and_post_the_report(tmp_path):
    repo = tmp_path / "repo"
    project = example_copy(repo / "models" / "bc", loop=False)
    (repo / ".git").mkdir()
    proc = cli(project, "init", "--ci", "github")
    assert proc.returncode == 0, proc.stderr
    workflow = yaml.safe_load((repo / ".github" / "workflows" / "mlops-ci.yml").read_text())
    steps = workflow["jobs"]["model-report"]["steps"]
    ci = next(s for s in steps if s.get("id") == "ci")
    assert ci["run"] == "jupyter-mlops ci --out ci-report.md"
    assert ci["working-directory"] == "models/bc"
    post = next(s for s in steps if "cml comment create" in s.get("run", ""))
    assert post["if"] == "always()"
    env = workflow["jobs"]["model-report"]["env"]
    assert env["MLFLOW_TRACKING_URI"] == "${{ secrets.MLFLOW_TRACKING_URI }}"
    again = cli(project, "init", "--ci", "github")
    assert again.returncode == 4 and "exists" in again.stderr and "--force" in again.stderr
    assert cli(project, "init", "--ci", "gitlab").returncode == 0
    gitlab = yaml.safe_load((repo / ".gitlab-ci.yml").read_text())
    script = gitlab["mlops-ci"]["script"]
    assert "cd models/bc" in script and script[-1] == "exit $status"
    assert any("jupyter-mlops ci" in line for line in script)
