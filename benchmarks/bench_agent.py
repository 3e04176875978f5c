"""The light kernel: what the first tracked cell costs a fresh kernel, with the sync agent
against the former in-kernel replay (``MLOPS_SYNC=inprocess``) and MLflow's fluent API.

    python benchmarks/bench_agent.py [--cells N] [--quick]

Each design runs in a fresh Python process with IPython and the extension loaded and
scikit-learn imported (the user's own code pays that). Measured there:
- the first ``%%mlops track`` cell fitting a LogisticRegression (wall time of the cell);
- the process's memory growth over that cell (VmRSS);
- cell end -> run visible in MLflow (p50 over N later cells), polled in the store's SQLite file
  so that the measuring does not import MLflow into the kernel;
- cell end -> the cell's LogisticRegression visible as a READY logged model (p50).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, os, sqlite3, sys, time
from pathlib import Path

def rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024

root = Path(sys.argv[1]); cells = int(sys.argv[2]); mode = sys.argv[3]
os.chdir(root)
from IPython.testing.globalipapp import start_ipython
ip = start_ipython()
import sklearn.linear_model  # the user's own import
ip.run_cell("from sklearn.linear_model import LogisticRegression\n"
            "X_train = [[0.0, 1.0], [1.0, 0.0], [0.2, 0.8], [0.9, 0.2]] * 10\n"
            "y = [0, 1, 0, 1] * 10")
db = root / ".mlops" / "mlflow.db"

def wait_for(sql, args, timeout=60):
    t = time.perf_counter()
    while time.perf_counter() - t < timeout:
        con = sqlite3.connect(db, timeout=30)
        try:
            if con.execute(sql, args).fetchone():
                return
        except sqlite3.Error:
            pass
        finally:
            con.close()
        time.sleep(0.002)
    raise SystemExit(f"not visible after {timeout} s: {args}")

RUN = "SELECT 1 FROM runs WHERE name = ?"
MODEL = "SELECT 1 FROM tags t JOIN runs r ON r.run_uuid = t.run_uuid WHERE r.name = ? AND t.key = 'mlops.model.clf'"
out = {}
if mode == "fluent":
    import mlflow  # noqa
    before = rss_mb(); t = time.perf_counter()
    import mlflow, mlflow.sklearn
    mlflow.set_tracking_uri(f"sqlite:///{db}")
    with mlflow.start_run(run_name="c0"):
        clf = sklearn.linear_model.LogisticRegression().fit([[0.0, 1.0], [1.0, 0.0]] * 10, [0, 1] * 10)
        mlflow.log_params({"C": 1.0}); mlflow.log_metric("score", 1.0)
        mlflow.sklearn.log_model(clf, name="clf", pip_requirements=["scikit-learn"])
    out["first_cell_s"] = time.perf_counter() - t
    out["memory_mb"] = rss_mb() - before
    print(json.dumps(out)); raise SystemExit
ip.run_line_magic("load_ext", "jupyter_mlops")
before = rss_mb(); t = time.perf_counter()
ip.run_cell("%%mlops track --name c0\nclf = LogisticRegression().fit(X_train, y)")
out["first_cell_s"] = time.perf_counter() - t
out["memory_mb"] = rss_mb() - before
wait_for(MODEL, ("c0",), 120)
runs, models = [], []
for i in range(1, cells + 1):
    ip.run_cell(f"%%mlops track --name c{i}\nscore = {i} / 7")
    t = time.perf_counter(); wait_for(RUN, (f"c{i}",)); runs.append(time.perf_counter() - t)
for i in range(1, cells + 1):
    ip.run_cell(f"%%mlops track --name m{i}\nclf = LogisticRegression().fit(X_train, y)")
    t = time.perf_counter(); wait_for(MODEL, (f"m{i}",)); models.append(time.perf_counter() - t)
import statistics
out["run_visible_s"] = statistics.median(runs)
out["model_visible_s"] = statistics.median(models)
out["mlflow_in_kernel"] = any(m.split(".")[0] == "mlflow" for m in sys.modules)
from jupyter_mlops.capture import tracker
tracker.shutdown_recorders()
print(json.dumps(out))
"""


def fresh_store(folder: Path) -> Path:
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    db = folder / "template.db"
    store = SqlAlchemyStore(f"sqlite:///{db}", (folder / "artifacts").as_uri())
    store.engine.dispose()
    return db


def measure(mode: str, template: Path, cells: int) -> dict:
    root = Path(tempfile.mkdtemp(prefix=f"bench-agent-{mode}-"))
    (root / "mlops.yaml").write_text("project: bench\n")
    (root / ".mlops").mkdir()
    shutil.copy(template, root / ".mlops" / "mlflow.db")
    env = {**os.environ, "MLOPS_SYNC": "inprocess" if mode == "inprocess" else "agent"}
    env.pop("MLFLOW_TRACKING_URI", None)
    env["MLOPS_AGENT_IDLE"] = "2"
    try:
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(root), str(cells), mode],
            capture_output=True,
            text=True,
            env=env,
            timeout=600,
            cwd=root,
        )
        if out.returncode != 0:
            raise SystemExit(f"{mode} failed:\n{out.stderr[-3000:]}")
        return json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        time.sleep(3)  # let the agent drain and stop before the folder goes
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cells", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="3 cells per design (make bench)")
    args = parser.parse_args()
    if args.quick:
        args.cells = 3
    with tempfile.TemporaryDirectory() as tmp:
        template = fresh_store(Path(tmp))
        results = {
            mode: measure(mode, template, args.cells) for mode in ("agent", "inprocess", "fluent")
        }
    agent, old, fluent = results["agent"], results["inprocess"], results["fluent"]
    print(f"{'figure':34} {'agent':>9} {'in-kernel':>10} {'ratio':>7} {'fluent':>9}  goal")
    rows = [
        ("first tracked cell (LogReg) s", "first_cell_s", "<= 0.050"),
        ("kernel memory growth MB", "memory_mb", "<= 15"),
        ("cell end -> run visible p50 s", "run_visible_s", "<= 0.200"),
        ("cell end -> model READY p50 s", "model_visible_s", "<= 1.0"),
    ]
    for name, key, goal in rows:
        a, b = agent.get(key), old.get(key)
        f = fluent.get(key)
        ratio = f"{a / b:.2f}" if a is not None and b else "-"
        fl = f"{f:9.3f}" if f is not None else f"{'-':>9}"
        print(f"{name:34} {a:9.3f} {b:10.3f} {ratio:>7} {fl}  {goal}")
    print(
        f"MLflow imported in the kernel: agent {agent['mlflow_in_kernel']}, "
        f"in-kernel {old['mlflow_in_kernel']}"
    )


if __name__ == "__main__":
    from figures import quiet

    quiet()
    main()
