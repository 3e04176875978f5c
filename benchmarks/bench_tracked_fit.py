"""A multithreaded fit in a tracked cell against the same fit untracked, with default threads.

    python benchmarks/bench_tracked_fit.py [--cells N] [--rounds N] [--quick]

Each side runs in a fresh IPython (as a kernel would): the tracked one loads the extension and
wraps each fit in ``%%mlops track`` (the fitted model is logged, so the sync agent builds and
uploads it), the plain one runs the same cells bare. Cells run back to back, the way "run all"
does, in three phases:
- cold: the first cells, with no sync agent running (the first tracked cells start it, once
  they are done);
- warm: after a 2 s pause, the agent running;
- after an idle stop: once the agent stopped for lack of work (``MLOPS_AGENT_IDLE`` = 3 s), so
  the next tracked cell starts it again.
The plain side pauses as long. Figures are the fit's own time (measured inside the cell) with
scikit-learn's BLAS (LogisticRegression, 20000 rows of 100 features: about 70 ms; on 3000 rows
of 40 the fit takes 4 ms, and its median moves by a fifth between two identical runs, more than
the goal) and LightGBM (3000 rows, about 100 ms), medians over the cells and rounds; plain and tracked processes alternate (each going first every other round), so the
machine's load falls on both alike. A second plain process runs in each round too: its ratio to
the first (A/A) is how far two identical sides differ here, the floor under any figure. The
last column is the CPU time the sync agent used while a tracked cell ran (mean per cell): what
it took from the fit, whatever else loads the machine.
Goal: tracked / plain <= 1.10 in every phase.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

GOAL = 1.10
IDLE_S = 3
PHASES = ("cold", "warm", "after_idle")

CHILD = r"""
import json, os, sys, time
from pathlib import Path

root, mode, library, cells = Path(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
os.chdir(root)
from IPython.testing.globalipapp import start_ipython
ip = start_ipython()
rows, features = (3000, 40) if library == "lightgbm" else (20000, 100)
ip.run_cell(
    "import time\n"
    "from sklearn.datasets import make_classification\n"
    f"X, y = make_classification(n_samples={rows}, n_features={features}, random_state=0)\n"
    "FIT = []\n"
)
if library == "lightgbm":
    ip.run_cell("import lightgbm\nmake = lambda: lightgbm.LGBMClassifier(n_estimators=40, verbose=-1)")
else:
    ip.run_cell("from sklearn.linear_model import LogisticRegression\n"
                "make = lambda: LogisticRegression(max_iter=300)")
body = "_t = time.perf_counter()\nclf = make().fit(X, y)\nFIT.append(time.perf_counter() - _t)\n"
if mode == "tracked":
    ip.run_line_magic("load_ext", "jupyter_mlops")
    from jupyter_mlops.journal import agent_control
    from jupyter_mlops.workspace import Workspace
    ws = Workspace.find(root)

def agent_cpu():
    # CPU seconds the sync agent has used so far (0 when none runs)
    if mode == "plain" or not agent_control.is_running(ws):
        return 0.0, None
    pid = agent_control.read_status(ws).get("pid")
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except (OSError, TypeError):
        return 0.0, None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), pid

AGENT = {}

def phase(name):
    start = len(ip.user_ns["FIT"])
    used = 0.0
    for i in range(cells):
        cell = body if mode == "plain" else f"%%mlops track --name c{i}\n" + body
        before, pid = agent_cpu()
        result = ip.run_cell(cell)
        after, pid_after = agent_cpu()
        if pid_after is not None and pid_after == pid:
            used += after - before
        elif pid_after is not None:
            used += after  # the agent started during the cell
        if result.error_in_exec is not None:
            raise SystemExit(f"cell failed: {result.error_in_exec!r}")
    AGENT[name] = used
    return ip.user_ns["FIT"][start:]

def agent_stopped(timeout=120.0):
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        if mode == "plain" or not agent_control.is_running(ws):
            return
        time.sleep(0.1)
    raise SystemExit("the agent never stopped")

out = {"cold": phase("cold")}
time.sleep(2)
out["warm"] = phase("warm")
time.sleep(2)
agent_stopped()
time.sleep(1 if mode == "plain" else 0)
out["after_idle"] = phase("after_idle")
out["agent_cpu"] = AGENT
if mode == "tracked":
    from jupyter_mlops.journal.sync import sync_workspace
    sync_workspace(ws, timeout=120)
    agent_control.stop(ws, timeout=30)
print(json.dumps(out))
"""


def fresh_store(folder: Path) -> Path:
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    db = folder / "template.db"
    store = SqlAlchemyStore(f"sqlite:///{db}", (folder / "artifacts").as_uri())
    store.engine.dispose()
    return db


def measure(mode: str, library: str, template: Path, cells: int) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix=f"bench-fit-{mode}-"))
    (root / "mlops.yaml").write_text("project: bench-fit\n")
    (root / ".mlops").mkdir()
    shutil.copy(template, root / ".mlops" / "mlflow.db")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "MLOPS_"))}
    env["MLOPS_AGENT_IDLE"] = str(IDLE_S)
    try:
        done = subprocess.run(
            [sys.executable, "-c", CHILD, str(root), mode, library, str(cells)],
            capture_output=True,
            text=True,
            env=env,
            timeout=900,
            cwd=root,
        )
        if done.returncode != 0:
            raise SystemExit(f"{mode} {library} failed:\n{done.stderr[-3000:]}")
        result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        return result
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cells", type=int, default=4, help="cells per phase")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--quick", action="store_true", help="3 cells a phase, 1 round")
    args = parser.parse_args()
    cells, rounds = (3, 1) if args.quick else (args.cells, args.rounds)
    libraries = ["sklearn"]
    try:
        import lightgbm  # noqa: F401

        libraries.append("lightgbm")
    except ImportError:
        print("lightgbm is not installed: `pip install lightgbm` (the bench extra) to time it")
    loads = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory() as tmp:
        template = fresh_store(Path(tmp))
        figures: dict[tuple[str, str, str], list[float]] = {}
        agent: dict[tuple[str, str], list[float]] = {}
        for n in range(rounds):
            for library in libraries:
                # which side goes first alternates: a load that rises or falls during a round
                # (other processes) favours neither
                sides = ("plain", "tracked", "plain again")
                for side in sides if n % 2 == 0 else sides[::-1]:
                    mode = "tracked" if side == "tracked" else "plain"
                    result = measure(mode, library, template, cells)
                    for phase in PHASES:
                        figures.setdefault((library, phase, side), []).extend(result[phase])
                        if mode == "tracked":
                            used = result["agent_cpu"][phase] / cells
                            agent.setdefault((library, phase), []).append(used)
                    loads.append(os.getloadavg()[0])
    print(
        f"fit time in a cell, tracked vs plain, {cells} cells a phase x {rounds} rounds "
        f"(load average {min(loads):.1f}-{max(loads):.1f}, {os.cpu_count()} cores)"
    )
    print(
        f"{'library':9} {'phase':11} {'plain ms':>9} {'tracked ms':>11} {'ratio':>6}  goal     "
        f"{'A/A':>5}  agent CPU in a tracked cell, ms"
    )
    for library in libraries:
        for phase in PHASES:
            plain = statistics.median(figures[(library, phase, "plain")]) * 1000
            again = statistics.median(figures[(library, phase, "plain again")]) * 1000
            tracked = statistics.median(figures[(library, phase, "tracked")]) * 1000
            used = statistics.mean(agent[(library, phase)]) * 1000
            print(
                f"{library:9} {phase:11} {plain:9.1f} {tracked:11.1f} "
                f"{tracked / plain:6.2f}  <= {GOAL:.2f}  {again / plain:5.2f}  {used:6.0f}"
            )
    print(
        "A/A: a second plain process against the first, in the same rounds: how far two "
        "identical sides differ on this machine"
    )


if __name__ == "__main__":
    from figures import quiet

    quiet()
    main()
