"""The release loop: from a drift alert to a canary serving the retrained version, against the
same steps typed by hand, and what the loop process costs while nothing happens.

    .venv/bin/python benchmarks/bench_loop.py [--quick]

1. Alert to canary. A small project (one notebook step training on every CSV of data/), its
   champion served by `jupyter-mlops serve` in its own process, and `jupyter-mlops loop serve`
   with a drift alert. New labelled data lands and live traffic drifts; measured: from the
   alert's firing to the first answer of the retrained version from the router (the cycle built,
   registered, validated, promoted to staging and to canary). Baseline, in the same run: the same
   steps typed by hand after the next batch of data, each command its own process as a person
   runs them (`build`, `runs` to find the model, `register`, `validate`, `promote` twice), timed
   from the first command to the canary's first answer; no typing or reading time counted.
2. Idle cost. The loop process with a drift alert and a schedule, polling every 5 s, nothing
   firing: its CPU share and resident memory over a window, against the router process (which a
   team runs anyway) idle over the same window.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[1]
FEATURES = ["age", "income", "tenure"]
PROJECT = """\
project: bench-loop
steps:
  train: {{notebook: train.ipynb, inputs: [data/]}}
release:
  model: churn
  evaluation: {{path: eval.csv, target: label}}
  gates: {{metrics: {{accuracy: {{min: 0.6}}}}, signature: true}}
monitor:
  drift: {{psi: 0.2, ks: 0.2, min_rows: 30}}
  canary: {{min_requests: 10, max_prediction_psi: 50}}
loop:
  poll: {poll}
  triggers:
    drift: {{alert: input_drift, window: 1m}}
    nightly: {{schedule: "0 3 * * *"}}
  cycle: {{promote: [staging, canary], canary_weight: 50}}
"""
TRAIN = [
    "import glob\nimport pandas as pd\nfrom sklearn.linear_model import LogisticRegression\n"
    "frame = pd.concat([pd.read_csv(p) for p in sorted(glob.glob('data/*.csv'))])",
    "%load_ext jupyter_mlops",
    "%%mlops track --name train --metrics accuracy\n"
    f"X, y = frame[{FEATURES!r}], frame['label']\n"
    "model = LogisticRegression(max_iter=500).fit(X, y)\n"
    "accuracy = float(model.score(X, y))",
]


def labelled(n: int, seed: int, shift: float = 0.0):
    import pandas as pd

    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "age": rng.normal(40 + shift, 10, n),
            "income": rng.normal(50, 15, n),
            "tenure": rng.integers(0, 20, n).astype("float64"),
        }
    )
    logit = 0.08 * (df.age - 40 - shift) + 0.06 * (df.income - 50) + 0.1 * (df.tenure - 10)
    df["label"] = (logit + rng.normal(0, 0.5, n) > 0).astype("int64")
    return df


def make_project(root: Path, poll: str) -> None:
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    (root / "data").mkdir(parents=True)
    (root / "mlops.yaml").write_text(PROJECT.format(poll=poll))
    labelled(300, 0).to_csv(root / "data" / "base.csv", index=False)
    labelled(200, 3).to_csv(root / "eval.csv", index=False)
    nb = new_notebook(cells=[new_code_cell(c) for c in TRAIN])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, root / "train.ipynb")


def env() -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    out["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), out.get("PYTHONPATH")]))
    out["MLOPS_LEASE_SETTLE"] = "0.2"
    return out


def cli(root: Path, *argv: str) -> str:
    done = subprocess.run(
        [str(BIN / "jupyter-mlops"), *argv], cwd=root, env=env(), capture_output=True, text=True
    )
    if done.returncode not in (0, 5):
        raise RuntimeError(f"jupyter-mlops {' '.join(argv)}: {done.stdout}{done.stderr}")
    return done.stdout


@contextlib.contextmanager
def process(root: Path, *argv: str):
    proc = subprocess.Popen(
        [str(BIN / "jupyter-mlops"), *argv],
        cwd=root,
        env=env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def first_champion(root: Path) -> None:
    """The starting point, made by hand: a built, registered, validated champion."""
    cli(root, "build", "--quiet")
    run_id = best_run(root)
    cli(root, "register", run_id, "--name", "churn")
    cli(root, "validate", "churn", "1")
    cli(root, "promote", "churn", "1", "--to", "champion")


def best_run(root: Path) -> str:
    """What a person does to find the model to register: the newest train run."""
    out = cli(root, "runs", "--limit", "5", "--json")
    runs = [r for r in json.loads(out) if r.get("name") == "train"]
    return str(runs[0]["run_id"])


class Traffic:
    """Drifted single-row requests in a thread; remembers when each version first answered."""

    def __init__(self, url: str) -> None:
        self.url, self.first = url, {}
        self.rows = labelled(200, 9, shift=25.0)[FEATURES].to_dict(orient="records")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import httpx

        with httpx.Client(base_url=self.url, timeout=10) as http:
            i = 0
            while not self._stop.is_set():
                try:
                    r = http.post("/invocations", json={"dataframe_records": [self.rows[i % 200]]})
                    self.first.setdefault(r.headers.get("x-model-version"), time.time())
                except httpx.HTTPError:
                    pass
                i += 1
                time.sleep(0.01)

    def __enter__(self) -> Traffic:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise RuntimeError(f"waited {timeout:g} s for {what}")


def fired_at(ws) -> float | None:
    from jupyter_mlops.loop.memory import memories
    from jupyter_mlops.store.gateway import gateway_for

    tags = gateway_for(ws).client.get_registered_model("churn").tags
    return memories(tags).get("drift", {}).get("fired")


def bench_alert_to_canary() -> list[tuple[str, str, str]]:
    from jupyter_mlops.release.rollout import demote_canary
    from jupyter_mlops.store.gateway import gateway_for
    from jupyter_mlops.workspace import Workspace

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "project"
        make_project(root, "1s")
        first_champion(root)
        ws = Workspace.find(root)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        with process(root, "serve", "churn", "--port", str(port), "--poll", "0.1"):
            wait_for(lambda: _answers(url), 60, "the router")
            labelled(200, 5, shift=25.0).to_csv(root / "data" / "new-1.csv", index=False)
            with process(root, "loop", "serve"), Traffic(url) as traffic:
                wait_for(lambda: "2" in traffic.first, 300, "the loop's canary")
                alert = wait_for(lambda: fired_at(ws), 10, "the alert")
                t_loop = traffic.first["2"] - alert
            demote_canary(gateway_for(ws), "churn", reason="bench: the hand-typed round next")
            labelled(200, 6, shift=25.0).to_csv(root / "data" / "new-2.csv", index=False)
            with Traffic(url) as traffic:
                t0 = time.time()
                cli(root, "build", "--quiet")
                run_id = best_run(root)
                cli(root, "register", run_id, "--name", "churn")
                cli(root, "validate", "churn", "3")
                cli(root, "promote", "churn", "3", "--to", "staging")
                cli(root, "promote", "churn", "3", "--to", "canary", "--weight", "50")
                wait_for(lambda: "3" in traffic.first, 30, "the hand-made canary")
                t_hand = traffic.first["3"] - t0
    return [
        ("alert -> canary serving, the loop", f"{t_loop:.1f} s", "build, register, gates, rollout"),
        (
            "the same steps typed by hand (commands only)",
            f"{t_hand:.1f} s",
            f"loop/hand = {t_loop / t_hand:.2f}",
        ),
    ]


def _answers(url: str) -> bool:
    import httpx

    try:
        return httpx.get(f"{url}/ping", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def bench_idle(window: float) -> list[tuple[str, str, str]]:
    from jupyter_mlops.loop.cycle import CycleBook
    from jupyter_mlops.store.gateway import gateway_for
    from jupyter_mlops.workspace import Workspace

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "project"
        make_project(root, "5s")
        first_champion(root)
        ws = Workspace.find(root)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        with (
            process(root, "serve", "churn", "--port", str(port)) as router,
            process(root, "loop", "serve") as loop,
        ):
            wait_for(lambda: _answers(url), 60, "the router")
            wait_for(lambda: fired_at(ws) is None and _led(ws), 60, "the loop to lead")
            time.sleep(6)  # past start-up: the first rounds import what they need
            before = {p.pid: cpu_seconds(p.pid) for p in (router, loop)}
            time.sleep(window)
            used = {p.pid: cpu_seconds(p.pid) - before[p.pid] for p in (router, loop)}
            rss = {p.pid: rss_mb(p.pid) for p in (router, loop)}
            assert not CycleBook(gateway_for(ws), "churn").recent(1), "a cycle started"
    loop_cpu, router_cpu = used[loop.pid] / window, used[router.pid] / window
    return [
        (
            f"idle loop process, poll 5 s ({window:g} s window)",
            f"{loop_cpu:.2%} CPU",
            f"router idle: {router_cpu:.2%}",
        ),
        (
            "idle loop process, resident memory",
            f"{rss[loop.pid]:.0f} MB",
            f"router: {rss[router.pid]:.0f} MB (loop/router = "
            f"{rss[loop.pid] / rss[router.pid]:.2f})",
        ),
    ]


def _led(ws) -> bool:
    from jupyter_mlops.loop.status import loop_status
    from jupyter_mlops.store.gateway import gateway_for

    return loop_status(gateway_for(ws)).leader is not None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a 20 s idle window (else 120 s)")
    args = parser.parse_args()
    import logging

    from jupyter_mlops import quiet  # noqa: F401 -- MLflow's chatter goes to the debug log

    logging.getLogger("mlflow").setLevel(logging.ERROR)
    rows = bench_alert_to_canary() + bench_idle(20.0 if args.quick else 120.0)
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'value':>12}  note")
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>12}  {note}")


if __name__ == "__main__":
    main()
