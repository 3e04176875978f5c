"""What ``papermill --engine mlops`` costs per notebook, beside plain papermill in the same run.

    python benchmarks/bench_engine.py [--rounds N] [--quick]

Both run papermill's command line on the same small notebook (three cells, no tracking of its
own) in the same project, one after the other, round after round, so that the machine's load
falls on both alike. The engine journals the step run (no MLflow in the papermill process) and
returns once it has landed, so its figure includes the sync agent landing the run. The first
engine run starts the agent (``cold``); the later ones find it running (``warm``).
Goal: the engine's overhead per notebook <= 0.3 s (median, warm).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

GOAL_S = 0.3
CELLS = ("x = 1", "import math\ny = math.sqrt(x + 1)", "print(y)")


def fresh_store(folder: Path) -> Path:
    """A store with MLflow's schema made once (as any workspace has after its first run)."""
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    db = folder / "template.db"
    store = SqlAlchemyStore(f"sqlite:///{db}", (folder / "artifacts").as_uri())
    store.engine.dispose()
    return db


def project(folder: Path, template: Path) -> Path:
    root = folder / "project"
    (root / ".mlops").mkdir(parents=True)
    (root / "mlops.yaml").write_text("project: bench-engine\n")
    shutil.copy(template, root / ".mlops" / "mlflow.db")
    nb = new_notebook(cells=[new_code_cell(c) for c in CELLS])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, root / "small.ipynb")
    return root


def run_papermill(root: Path, engine: str | None, n: int) -> tuple[float, float]:
    """Wall time, and CPU time of papermill and its kernel (the agent is not their child)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "MLOPS_"))}
    args = [sys.executable, "-m", "papermill", "small.ipynb", f"out-{n}.ipynb", "--no-progress-bar"]
    args += ["--engine", engine] if engine else []
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    done = subprocess.run(args, cwd=root, env=env, capture_output=True, text=True, timeout=600)
    took = time.perf_counter() - began
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"papermill {engine or 'plain'} failed:\n{done.stderr[-3000:]}")
    used = (cpu.ru_utime - cpu_before.ru_utime) + (cpu.ru_stime - cpu_before.ru_stime)
    return took, used


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--quick", action="store_true", help="3 rounds")
    args = parser.parse_args()
    rounds = 3 if args.quick else args.rounds
    from jupyter_mlops.journal import agent_control
    from jupyter_mlops.workspace import Workspace

    with tempfile.TemporaryDirectory() as tmp:
        root = project(Path(tmp), fresh_store(Path(tmp)))
        ws = Workspace.find(root)
        try:
            loads = [os.getloadavg()[0]]
            run_papermill(root, None, 0)  # kernel spec, page cache: both warm from here on
            cold = run_papermill(root, "mlops", 0)[0] - run_papermill(root, None, 0)[0]
            plain, engine = [], []
            for n in range(1, rounds + 1):
                plain.append(run_papermill(root, None, n))
                engine.append(run_papermill(root, "mlops", n))
                loads.append(os.getloadavg()[0])
        finally:
            agent_control.stop(ws, timeout=30)
    print(
        f"papermill CLI, one small notebook, {rounds} rounds "
        f"(load average {min(loads):.1f}-{max(loads):.1f}, {os.cpu_count()} cores)"
    )
    print(
        f"{'figure (median per notebook)':38} {'plain':>8} {'mlops':>8} {'ratio':>7} {'overhead':>9}  goal"
    )
    for name, i in (("wall time s", 0), ("CPU s, papermill + kernel", 1)):
        p = statistics.median(r[i] for r in plain)
        e = statistics.median(r[i] for r in engine)
        goal = f"<= {GOAL_S}" if i == 0 else ""
        print(f"{name:38} {p:8.2f} {e:8.2f} {e / p:7.2f} {e - p:9.2f}  {goal}")
    print(f"{'first engine run, agent cold: wall s':38} {'':8} {'':8} {'':7} {cold:9.2f}")


if __name__ == "__main__":
    from figures import quiet

    quiet()
    main()
