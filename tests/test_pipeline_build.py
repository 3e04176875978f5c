"""Builds with real kernels (papermill), a real SQLite store and real files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from notebook_support import make_notebook
from waiting import wait_until

from jupyter_mlops.errors import Conflict
from jupyter_mlops.pipeline.build import build
from jupyter_mlops.store.client import client_for

REPO = Path(__file__).resolve().parents[1]


WRITE_A = (
    "from pathlib import Path\nfrom jupyter_mlops.pipeline import log_step_metrics\n"
    "Path('out').mkdir(exist_ok=True)\nPath('out/a.txt').write_text(str(n * 2))\n"
    "log_step_metrics(value=n * 2)"
)
READ_B = (
    "from pathlib import Path\nfrom jupyter_mlops.pipeline import log_step_metrics\n"
    "v = int(Path('out/a.txt').read_text()) * scale\nPath('out/b.txt').write_text(f'{v} {a_run_id}')\n"
    "log_step_metrics(b=v)"
)
YAML = """\
project: t
experiment: pipe
steps:
  a:
    notebook: a.ipynb
    parameters: {n: 3}
    outputs: [out/a.txt]
  b:
    notebook: b.ipynb
    needs: [a]
    inputs: [out/a.txt]
    outputs: [out/b.txt]
    parameters: {scale: 2}
"""


@pytest.fixture(autouse=True)
def kernels_import_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    """Kernels inherit the environment; the package is importable from the repo."""
    monkeypatch.setenv("PYTHONPATH", str(REPO))


@pytest.fixture
def project(workspace):
    root = workspace.root
    make_notebook(root / "a.ipynb", "n = 1", WRITE_A)
    make_notebook(root / "b.ipynb", "scale = 1\na_run_id = None", READ_B)
    (root / "mlops.yaml").write_text(YAML)
    return workspace


def _runs(ws, kind=None):
    client = client_for(ws)
    exps = [e.experiment_id for e in client.search_experiments()]
    flt = f"tags.`mlops.kind` = '{kind}'" if kind else ""
    return client.search_runs(exps, filter_string=flt, max_results=1000)


def test_build_runs_steps_then_all_cache_hits(project) -> None:
    ws = project
    first = build(workspace=ws, progress=False, wait=True)
    assert [s.status for s in first.steps] == ["ran", "ran"], first.table()
    assert (ws.root / "out" / "b.txt").read_text().startswith("12 ")
    pipeline = _runs(ws, "pipeline")
    steps = {r.info.run_name: r for r in _runs(ws, "step")}
    assert len(pipeline) == 1 and pipeline[0].info.status == "FINISHED"
    assert set(steps) == {"a", "b"}
    a, b = steps["a"], steps["b"]
    assert a.data.tags["mlflow.parentRunId"] == pipeline[0].info.run_id
    assert a.data.params["n"] == "3" and a.data.metrics["value"] == 6
    # b declared a_run_id in its parameters cell: it got the run of step a
    assert b.data.params["a_run_id"] == a.info.run_id
    assert (ws.root / "out" / "b.txt").read_text() == f"12 {a.info.run_id}"
    artifacts = [f.path for f in client_for(ws).list_artifacts(a.info.run_id, "notebook")]
    assert artifacts == ["notebook/a.ipynb"]
    local = client_for(ws).download_artifacts(a.info.run_id, "mlops/cell_seconds.json")
    cells = json.loads(Path(local).read_text())
    # parameters, injected parameters, code: each cell timed
    assert len(cells) == 3 and all(c is not None for c in cells), cells

    second = build(workspace=ws, progress=False)
    assert [s.status for s in second.steps] == ["cached", "cached"]
    assert second.step("a").run_id == a.info.run_id
    assert second.pipeline_run_id is None
    assert len(_runs(ws)) == len(_runs(ws, "pipeline")) + 2  # no new runs at all

    (ws.root / "out" / "a.txt").unlink()
    (ws.root / "out" / "b.txt").write_text("tampered")
    third = build(workspace=ws, progress=False)
    assert [s.status for s in third.steps] == ["cached", "cached"]
    assert (ws.root / "out" / "a.txt").read_text() == "6"
    assert (ws.root / "out" / "b.txt").read_text() == f"12 {a.info.run_id}"

    forced = build(["a"], workspace=ws, force=True, progress=False)
    assert [s.status for s in forced.steps] == ["ran"]


def test_dry_run_names_what_changed(project) -> None:
    ws = project
    build(workspace=ws, progress=False)
    # outputs and metadata of a notebook do not count, code does
    nb = nbformat.read(ws.root / "a.ipynb", as_version=4)
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", text="hello")]
    nb.metadata["something"] = 1
    nbformat.write(nb, ws.root / "a.ipynb")
    dry = build(workspace=ws, dry_run=True, progress=False)
    assert [s.status for s in dry.steps] == ["up to date", "up to date"]

    (ws.root / "mlops.yaml").write_text(YAML.replace("{scale: 2}", "{scale: 5}"))
    dry = build(workspace=ws, dry_run=True, progress=False)
    assert dry.step("a").status == "up to date"
    assert dry.step("b").status == "would run" and dry.step("b").reason == "parameters changed"

    nb.cells[1].source += "\nprint('changed')"
    nbformat.write(nb, ws.root / "a.ipynb")
    dry = build(workspace=ws, dry_run=True, progress=False)
    assert dry.step("a").reason == "notebook code changed"
    assert dry.step("b").reason == "needed step a will run"


FAIL_YAML = """\
steps:
  a:
    notebook: a.ipynb
    outputs: [out/a.txt]
  bad:
    notebook: bad.ipynb
    needs: [a]
  after:
    notebook: a.ipynb
    needs: [bad]
    parameters: {n: 5}
  other:
    notebook: other.ipynb
"""


def test_failed_step_skips_dependents_and_next_build_resumes(workspace) -> None:
    ws = workspace
    make_notebook(ws.root / "a.ipynb", "n = 1", WRITE_A)
    make_notebook(ws.root / "bad.ipynb", "x = 1", "y = 2", "raise ValueError('boom')")
    make_notebook(ws.root / "other.ipynb", "x = 1", "x + 1")
    (ws.root / "mlops.yaml").write_text(FAIL_YAML)
    report = build(workspace=ws, progress=False, wait=True)
    status = {s.name: s.status for s in report.steps}
    assert status == {"a": "ran", "bad": "failed", "after": "skipped", "other": "ran"}
    assert not report.ok
    bad = report.step("bad")
    assert bad.error["cell_index"] == 2 and bad.error["ename"] == "ValueError"
    run = client_for(ws).get_run(bad.run_id)
    assert run.info.status == "FAILED"
    assert run.data.tags["mlops.error.cell_index"] == "2"
    assert run.data.tags["mlops.error.evalue"] == "boom"
    pipeline = client_for(ws).get_run(report.pipeline_run_id)
    assert pipeline.info.status == "FAILED"

    make_notebook(ws.root / "bad.ipynb", "x = 1", "y = 2", "z = 3")
    again = build(workspace=ws, progress=False)
    status = {s.name: s.status for s in again.steps}
    assert status == {"a": "cached", "bad": "ran", "after": "ran", "other": "cached"}


def test_kernel_killed_mid_run_and_timeout(workspace) -> None:
    ws = workspace
    make_notebook(
        ws.root / "die.ipynb", "x = 1", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"
    )
    make_notebook(ws.root / "slow.ipynb", "x = 1", "import time\ntime.sleep(60)")
    (ws.root / "mlops.yaml").write_text(
        "steps:\n  die:\n    notebook: die.ipynb\n  slow:\n    notebook: slow.ipynb\n    timeout: 3\n"
    )
    started = time.monotonic()
    report = build(workspace=ws, progress=False, jobs=2, wait=True)
    assert time.monotonic() - started < 40
    die, slow = report.step("die"), report.step("slow")
    assert die.status == "failed" and die.error["cell_index"] == 1, die.error
    assert slow.status == "failed" and slow.error["ename"] == "TimeoutError"
    assert client_for(ws).get_run(slow.run_id).info.status == "FAILED"


def test_one_build_per_workspace_and_stale_lock_taken_over(project) -> None:
    ws = project
    lock = ws.state_dir / "locks" / "build.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys, time, json\n"
            f"fd = os.open({str(lock)!r}, os.O_RDWR | os.O_CREAT)\n"
            "fcntl.flock(fd, fcntl.LOCK_EX)\n"
            "os.write(fd, json.dumps({'pid': os.getpid(), 'command': 'other build'}).encode())\n"
            "print('held', flush=True)\ntime.sleep(60)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(Conflict) as info:
            build(workspace=ws, progress=False)
        assert str(holder.pid) in str(info.value) and "other build" in str(info.value)
    finally:
        holder.kill()
        holder.wait()
    # the holder died: its lock file is still there, naming a dead pid, and is simply taken over
    assert lock.exists()
    report = build(workspace=ws, progress=False)
    assert report.ok


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_marks_runs_killed(workspace) -> None:
    ws = workspace
    make_notebook(ws.root / "slow.ipynb", "x = 1", "import time\ntime.sleep(60)")
    (ws.root / "mlops.yaml").write_text("steps:\n  slow:\n    notebook: slow.ipynb\n")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyter_mlops.cli", "build"],
        cwd=ws.root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # as from a terminal: a test run started in the background of a non-interactive shell
        # ignores SIGINT, and an ignored signal stays ignored across exec
        preexec_fn=_default_sigint,
    )
    tmp = ws.state_dir / "tmp" / "running"  # where papermill writes a running step

    def in_the_slow_cell() -> bool:  # the kernel runs it: the output notebook says so
        files = list(tmp.glob("*.ipynb")) if tmp.is_dir() else []
        return bool(files) and '"running"' in files[0].read_text()

    wait_until(in_the_slow_cell, 60, interval=0.2, message="the build never reached the slow cell")
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    runs = {r.data.tags["mlops.kind"]: r.info.status for r in _runs(ws)}
    assert runs == {"pipeline": "KILLED", "step": "KILLED"}


SWEEP_YAML = """\
steps:
  train:
    notebook: train.ipynb
    sweep:
      parameters: {c: [1, 3, 2]}
      metric: score
  use:
    notebook: use.ipynb
    needs: [train]
    outputs: [out/best.txt]
"""


def test_grid_sweep_marks_best_and_hands_it_on(workspace) -> None:
    ws = workspace
    make_notebook(
        ws.root / "train.ipynb",
        "c = 0",
        "from jupyter_mlops.pipeline import log_step_metrics\nlog_step_metrics(score=-(c - 3) ** 2)",
    )
    make_notebook(
        ws.root / "use.ipynb",
        "c = 0\ntrain_run_id = None",
        "from pathlib import Path\nPath('out').mkdir(exist_ok=True)\n"
        "Path('out/best.txt').write_text(f'{c} {train_run_id}')",
    )
    (ws.root / "mlops.yaml").write_text(SWEEP_YAML)
    report = build(workspace=ws, progress=False, jobs=2, wait=True)
    assert report.ok, report.table()
    train = report.step("train")
    assert train.trials == 3 and train.metric == ("score", 0.0)
    trials = _runs(ws, "trial")
    assert len(trials) == 3
    assert {t.data.tags["mlflow.parentRunId"] for t in trials} == {train.run_id}
    best = [t for t in trials if t.data.tags.get("mlops.best") == "true"]
    assert len(best) == 1 and best[0].data.params["c"] == "3"
    assert (ws.root / "out" / "best.txt").read_text() == f"3 {best[0].info.run_id}"
    step_run = client_for(ws).get_run(train.run_id)
    assert step_run.data.params["best.c"] == "3" and step_run.data.metrics["score"] == 0.0
    again = build(workspace=ws, progress=False)
    assert [s.status for s in again.steps] == ["cached", "cached"]


TRACKED = (
    "import os\nfrom pathlib import Path\nfrom jupyter_mlops.capture.tracker import track\n"
    "from jupyter_mlops.capture.tracker import shutdown_recorders\n"
    "Path('parent.txt').write_text(os.environ.get('MLOPS_PARENT_RUN_ID', 'none'))\n"
    "with track(name='inner') as run:\n    run.log_metrics({'inner_acc': 0.5})\n"
    "shutdown_recorders()  # sent before the kernel ends"
)


def test_tracked_cells_of_a_step_are_children_and_their_metrics_count(workspace) -> None:
    """The step's run id reaches the kernel (set once it started) before the first cell."""
    ws = workspace
    make_notebook(ws.root / "t.ipynb", "x = 1", TRACKED)
    (ws.root / "mlops.yaml").write_text(
        "steps:\n  t:\n    notebook: t.ipynb\n    metric: inner_acc\n"
    )
    report = build(workspace=ws, progress=False, wait=True)
    assert report.ok, report.table()
    step = report.step("t")
    assert (ws.root / "parent.txt").read_text() == step.run_id
    inner = [r for r in _runs(ws) if r.info.run_name == "inner"]
    assert len(inner) == 1 and inner[0].data.tags["mlflow.parentRunId"] == step.run_id
    assert step.metric == ("inner_acc", 0.5)
    assert client_for(ws).get_run(step.run_id).data.metrics["inner_acc"] == 0.5


def test_cli_leaves_without_final_garbage_collections(tmp_path) -> None:
    """Python's teardown collections over MLflow's, pandas' and scikit-learn's objects took
    13 s on a busy machine: an interrupted build seemed to hang after Ctrl-C. The program
    freezes its objects before the interpreter tears down (atexit handlers still run)."""
    code = (
        "import atexit, gc, sys\n"
        "atexit.register(lambda: print('frozen', gc.get_freeze_count() > 0))\n"
        "sys.argv = ['jupyter-mlops', 'steps']\n"
        "from jupyter_mlops.cli import run\n"
        "run()\n"
    )
    (tmp_path / "mlops.yaml").write_text("steps:\n  a:\n    notebook: a.ipynb\n")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["a: a.ipynb", "frozen True"]
