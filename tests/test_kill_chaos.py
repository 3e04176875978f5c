"""kill -9 at random moments: a build, one of its kernels, or a plain tracked papermill run.

Each trial picks a target and a moment from one seeded generator, kills, syncs, and checks what
a user would rely on afterwards:

- nothing half-written: every output file that exists is whole, every executed notebook is a
  valid notebook, no temporary file lies where a reader of the outputs would pick it up;
- no run left RUNNING once ``jupyter-mlops sync`` has landed the dead processes' journals;
- a consistent cache: the next build succeeds, every step it reports cached has its outputs on
  disk with the digest the cache recorded, and a build after that is all cache hits.

The trials share one project folder, so each starts from whatever the previous one left.
``MLOPS_CHAOS_SEED`` replays a failing sequence (its seed is in every failure message);
``MLOPS_CHAOS_TRIALS`` changes how many trials run.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import psutil
import pytest
from chaos_support import (
    OUTPUT_END,
    PAPERMILL_CLI,
    kernels_of,
    kill_tree,
    write_project,
)
from notebook_support import make_notebook
from waiting import wait_until

from jupyter_mlops.journal.sync import sync_workspace
from jupyter_mlops.pipeline.build import build
from jupyter_mlops.pipeline.cache import CacheIndex
from jupyter_mlops.pipeline.files import hash_file
from jupyter_mlops.store.client import client_for

REPO = Path(__file__).resolve().parents[1]
TARGETS = ("build", "kernel", "papermill")
BUILD_TIMEOUT = 120
# seconds after its start within which a process is killed: about how long it runs here
KILL_WITHIN = {"build": 4.5, "papermill": 3.5}

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def kernels_import_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", str(REPO))


def _seed() -> int:
    given = os.environ.get("MLOPS_CHAOS_SEED")
    return int(given) if given else random.SystemRandom().randrange(2**32)


def _start(args: list[str], cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, *args],
        cwd=cwd,
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group: what it leaves behind can be found
    )


class Trial:
    """One kill: which target, when, and what was hit (for the report and failure messages)."""

    def __init__(self, ws, rng: random.Random, number: int, target: str) -> None:
        self.ws = ws
        self.rng = rng
        self.number = number
        self.target = target
        self.hit = "missed"

    def run(self) -> None:
        self._change_inputs()
        if self.target == "papermill":
            out = f"runs/standalone-{self.number}.ipynb"
            args = ["-c", PAPERMILL_CLI, "a.ipynb", out, "--engine", "mlops"]
            proc = _start([*args, "-p", "n", str(self.number), "--no-progress-bar"], self.ws.root)
        else:
            proc = _start(["-m", "jupyter_mlops.cli", "build", "-q"], self.ws.root)
        try:
            if self.target == "kernel":
                self._kill_a_kernel(proc)
            else:
                self._kill_process(proc)
        finally:
            kill_tree(proc)

    def _change_inputs(self) -> None:
        """Make one or both steps stale, so the killed build has work to do."""
        root = self.ws.root
        which = self.rng.choice(["a", "b", "ab"])
        for step in which:
            (root / f"seed_{step}.txt").write_text(f"trial {self.number} {self.rng.random()}")

    def _kill_process(self, proc: subprocess.Popen) -> None:
        delay = self.rng.uniform(0.2, KILL_WITHIN[self.target])
        try:
            proc.wait(delay)
            self.hit = f"{self.target} exited before {delay:.2f} s"
        except subprocess.TimeoutExpired:
            kernels = kernels_of(proc.pid)
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            self.hit = f"{self.target} killed at {delay:.2f} s ({len(kernels)} kernels running)"
            # like a real kill -9: the kernels notice their parent is gone on their own
            psutil.wait_procs(kernels, timeout=2)

    def _kill_a_kernel(self, proc: subprocess.Popen) -> None:
        try:  # a build that ended first leaves no kernel to kill: a miss, not a failure
            kernels = wait_until(
                lambda: kernels_of(proc.pid) or proc.poll() is not None, 60, interval=0.05
            )
        except AssertionError:
            kernels = []
        if isinstance(kernels, list):
            delay = self.rng.uniform(0.0, 1.2)  # a kernel lives about 1.5 s here
            time.sleep(delay)
            try:
                kernels[0].send_signal(signal.SIGKILL)
                self.hit = f"kernel killed {delay:.2f} s after it started"
            except psutil.NoSuchProcess:
                self.hit = f"kernel gone before {delay:.2f} s"
        out, _ = proc.communicate(timeout=BUILD_TIMEOUT)
        assert proc.returncode in (0, 1), f"build ended with {proc.returncode}:\n{out}"


def _check_outputs_whole(ws, where: str) -> None:
    out = ws.root / "out"
    files = sorted(p for p in out.rglob("*") if p.is_file()) if out.is_dir() else []
    leftovers = [p.relative_to(ws.root).as_posix() for p in files if p.name.endswith(".tmp")]
    assert not leftovers, f"{where}: temporary files among the outputs: {leftovers}"
    for path in files:
        text = path.read_text()
        assert text.endswith(OUTPUT_END), f"{where}: {path.name} is half-written ({len(text)} B)"
    # finished notebooks; the ones papermill was writing when the kill came are in tmp/running
    for folder in (ws.root / "runs", ws.state_dir / "tmp"):
        for nb in sorted(folder.glob("*.ipynb")) if folder.is_dir() else []:
            try:
                nbformat.validate(nbformat.read(nb, as_version=4))
            except Exception as exc:
                pytest.fail(f"{where}: executed notebook {nb.name} is not a whole notebook: {exc}")


def _running_runs(ws) -> list[str]:
    from mlflow.entities import ViewType

    client = client_for(ws)
    exps = [e.experiment_id for e in client.search_experiments(view_type=ViewType.ALL)]
    runs = client.search_runs(exps, run_view_type=ViewType.ALL, max_results=5000)
    return [
        f"{r.info.run_name} ({r.data.tags.get('mlops.kind')}, {r.data.tags.get('mlops.source')})"
        for r in runs
        if r.info.status == "RUNNING"
    ]


def _check_cached_outputs(ws, report, where: str) -> None:
    index = CacheIndex(ws)
    for step in report.steps:
        if step.status != "cached":
            continue
        last = json.loads((index.dir / "last" / f"{step.name}.json").read_text())
        entry = index.lookup(last["key"])
        assert entry is not None, f"{where}: {step.name} reported cached without an entry"
        assert entry["outputs"], f"{where}: {step.name}'s cache entry records no outputs"
        for rel, digest in entry["outputs"].items():
            assert not rel.endswith(".tmp"), f"{where}: {step.name} recorded a temporary {rel}"
            path = ws.root / rel
            assert path.is_file(), f"{where}: cached {step.name} left {rel} missing"
            assert hash_file(path) == digest, f"{where}: cached {step.name}: {rel} differs"


def _check_after_kill(ws, trial: Trial, where: str) -> None:
    _check_outputs_whole(ws, where)
    report = sync_workspace(ws, timeout=60)
    assert report.error is None and not report.pending, f"{where}: sync: {report.describe()}"
    running = _running_runs(ws)
    assert not running, f"{where}: runs still RUNNING after sync: {running}"
    rebuilt = build(workspace=ws, progress=False, wait=True)
    assert rebuilt.ok, f"{where}: the build after the kill failed:\n{rebuilt.table()}"
    running = ws.state_dir / "tmp" / "running"
    left = sorted(p.name for p in running.iterdir()) if running.is_dir() else []
    assert not left, f"{where}: the next build left the killed build's notebooks: {left}"
    _check_cached_outputs(ws, rebuilt, where)
    _check_outputs_whole(ws, where)
    again = build(workspace=ws, progress=False, wait=True)
    statuses = {s.name: s.status for s in again.steps}
    assert set(statuses.values()) == {"cached"}, f"{where}: a second build was {statuses}"
    _check_cached_outputs(ws, again, where)


def test_kill_minus_nine_at_random_moments(workspace) -> None:
    ws = workspace
    write_project(ws.root)
    seed = _seed()
    trials = int(os.environ.get("MLOPS_CHAOS_TRIALS", "20"))
    rng = random.Random(seed)
    targets = [TARGETS[i % len(TARGETS)] for i in range(trials)]
    rng.shuffle(targets)
    log = []
    began = time.monotonic()
    for number, target in enumerate(targets):
        trial = Trial(ws, rng, number, target)
        started = time.monotonic()
        trial.run()
        where = f"MLOPS_CHAOS_SEED={seed}, trial {number} ({trial.hit})"
        _check_after_kill(ws, trial, where)
        log.append(f"{where}: {time.monotonic() - started:.1f} s")
    print(f"{trials} trials in {time.monotonic() - began:.0f} s:", *log, sep="\n  ")


def test_a_killed_papermill_run_is_ended_by_the_next_sync(workspace) -> None:
    """``papermill --engine mlops`` writes its run straight to MLflow: killed, it cannot end it;
    its lease outlives it, and the next sync marks the run FAILED."""
    ws = workspace
    make_notebook(ws.root / "slow.ipynb", "x = 1", "import time\ntime.sleep(60)")
    args = ["-c", PAPERMILL_CLI, "slow.ipynb", "slow-out.ipynb", "--engine", "mlops"]
    proc = _start([*args, "--no-progress-bar"], ws.root)
    try:
        leases = ws.state_dir / "leases"
        wait_until(lambda: kernels_of(proc.pid), 60, interval=0.05, message="no kernel started")
        assert [p.stem for p in leases.glob("*.lock")], "the running run holds no lease"
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        kill_tree(proc)
    [run_id] = [p.stem for p in leases.glob("*.lock")]
    assert client_for(ws).get_run(run_id).info.status == "RUNNING"
    report = sync_workspace(ws, timeout=30)
    assert report.error is None, report.describe()
    run = client_for(ws).get_run(run_id)
    assert run.info.status == "FAILED"
    assert run.data.tags["mlops.failure"] == "the process recording this run died"
    assert list(leases.glob("*.lock")) == []


def test_a_build_waiting_for_a_run_id_restarts_an_agent_that_stopped(workspace) -> None:
    """The agent may stop idle just before a build's records arrive, after the record's own
    (rate-limited) agent check: the wait for the run's id must start it again, not sit out
    its whole timeout (seen as 60 s stalls in the trials above)."""
    from jupyter_mlops.capture.tracker import sink_for
    from jupyter_mlops.journal import agent_control
    from jupyter_mlops.pipeline import records

    ws = workspace
    first = records.start_run(ws, name="first", kind="pipeline")
    assert first.run_id_or_key(wait=60)[0] is not None
    assert agent_control.stop(ws), "the agent did not stop"
    sink_for(ws)._agent_checked = time.monotonic()  # the record's check has just been made
    began = time.monotonic()
    second = records.start_run(ws, name="second", kind="pipeline")
    run_id, _ = second.run_id_or_key(wait=15)
    assert run_id is not None, "no run id: nothing sent the journal"
    assert time.monotonic() - began < 10
