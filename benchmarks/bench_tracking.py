"""Tracking costs against MLflow's own way of doing the same, measured in one run.

    python benchmarks/bench_tracking.py [--quick]

Prints, for each figure, ours, the baseline, the ratio, and the goal from the issue.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CELL = "\n".join([f"p{i} = {i * 0.5}" for i in range(10)] + [f"m{i} = {i} / 7" for i in range(5)])
METRICS = ",".join(f"m{i}" for i in range(5))


def p50(xs: list[float]) -> float:
    return statistics.median(xs)


def bench_cell(n: int) -> dict[str, float]:
    from IPython.testing.globalipapp import start_ipython

    ip = start_ipython() or __import__("IPython").get_ipython()
    ip.run_line_magic("load_ext", "jupyter_mlops")
    ip.run_cell(f"%%mlops track --metrics {METRICS}\n{CELL}")  # warm: imports, store, journal
    from jupyter_mlops.journal import flusher

    sink = next(iter(flusher._sinks.values()))
    sink.flush_now()
    plain, tracked = [], []
    for _ in range(n):
        t = time.perf_counter()
        ip.run_cell(CELL)
        plain.append(time.perf_counter() - t)
        t = time.perf_counter()
        ip.run_cell(f"%%mlops track --metrics {METRICS}\n{CELL}")
        tracked.append(time.perf_counter() - t)
    time.sleep(1.5)  # let the background flusher catch up, then time a flush of n cells
    for _ in range(n):
        ip.run_cell(f"%%mlops track --metrics {METRICS}\n{CELL}")
    t = time.perf_counter()
    sink.flush_now()
    flush = (time.perf_counter() - t) / n
    return {"added": p50(tracked) - p50(plain), "flush": flush}


def bench_fluent(n: int, folder: Path) -> float:
    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{folder / 'fluent.db'}")
    mlflow.set_experiment("fluent")
    params = {f"p{i}": i * 0.5 for i in range(10)}
    metrics = {f"m{i}": i / 7 for i in range(5)}
    with mlflow.start_run():
        pass
    times = []
    for _ in range(n):
        t = time.perf_counter()
        with mlflow.start_run():
            mlflow.log_params(params)
            mlflow.log_metrics(metrics)
        times.append(time.perf_counter() - t)
    return p50(times)


def bench_models(reps: int, folder: Path) -> dict[str, float]:
    import mlflow
    import mlflow.sklearn
    from sklearn.datasets import make_classification
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression

    import jupyter_mlops

    X, y = make_classification(n_samples=2000, n_features=20, random_state=0)
    lr = LogisticRegression(max_iter=500).fit(X, y)
    rf = RandomForestClassifier(n_estimators=100, random_state=0).fit(X, y)
    out = {}
    for label, model in (("lr", lr), ("rf", rf)):
        times, uploads = [], []
        for _ in range(reps + 1):
            with jupyter_mlops.track(name=f"bench-{label}") as run:
                t = time.perf_counter()
                jupyter_mlops.log_model(model, name=label, X=X)
                times.append(time.perf_counter() - t)
            t = time.perf_counter()
            run._sink.flush_now()
            uploads.append(time.perf_counter() - t)
        out[label] = p50(times[1:])
        out[f"{label}_upload"] = p50(uploads[1:])
    mlflow.set_tracking_uri(f"sqlite:///{folder / 'fluent.db'}")
    t = time.perf_counter()
    with mlflow.start_run():
        mlflow.sklearn.log_model(lr, name="baseline", input_example=X[:5])
    out["baseline"] = time.perf_counter() - t
    return out


def bench_environment() -> dict[str, float]:
    from jupyter_mlops.capture import environment

    t = time.perf_counter()
    environment.environment_snapshot(refresh=True)
    cold = time.perf_counter() - t
    warm = []
    for _ in range(50):
        t = time.perf_counter()
        environment.environment_snapshot()
        warm.append(time.perf_counter() - t)
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pip", "freeze"], capture_output=True, check=True)
    freeze = time.perf_counter() - t
    return {"cold": cold, "cached": p50(warm), "freeze": freeze}


def bench_load_ext() -> dict[str, float]:
    probe = (
        "import time; t0 = time.perf_counter(); import {what}; t = time.perf_counter() - t0;"
        "print(t)"
    )
    load = (
        "from IPython.testing.globalipapp import start_ipython; ip = start_ipython(); import time;"
        "t0 = time.perf_counter(); ip.run_line_magic('load_ext', 'jupyter_mlops');"
        "print(time.perf_counter() - t0)"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    ours = [
        float(
            subprocess.run(
                [sys.executable, "-c", load], capture_output=True, text=True, env=env, check=True
            ).stdout
        )
        for _ in range(3)
    ]
    mlflow = float(
        subprocess.run(
            [sys.executable, "-c", probe.format(what="mlflow")],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        ).stdout
    )
    return {"ours": min(ours), "mlflow": mlflow}


def row(name: str, ours: float, base: float, goal: str) -> str:
    return (
        f"{name:<42} {ours * 1000:>10.2f} ms {base * 1000:>10.1f} ms {base / ours:>8.1f}x   {goal}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--tracking-uri", help="a tracking server to measure (default: embedded)")
    args = parser.parse_args()
    n, reps = (20, 2) if args.quick else (100, 5)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        project = folder / "project"
        project.mkdir()
        (project / "mlops.yaml").write_text("project: bench\n")
        os.chdir(project)
        os.environ.pop("MLFLOW_TRACKING_URI", None)
        if args.tracking_uri:
            os.environ["MLFLOW_TRACKING_URI"] = args.tracking_uri
        cell = bench_cell(n)
        models = bench_models(reps, folder)
        fluent = bench_fluent(n, folder)
        env = bench_environment()
        ext = bench_load_ext()
        from jupyter_mlops.capture.tracker import shutdown_recorders

        shutdown_recorders()
        os.chdir(ROOT)
    print(f"{'figure':<42} {'ours':>13} {'baseline':>13} {'speed-up':>9}   goal")
    print(
        row(
            "tracked cell, added in-cell (p50)",
            cell["added"],
            fluent,
            "<= 2 ms; baseline: MLflow fluent API",
        )
    )
    print(
        row(
            "  flush to MLflow per cell (background)",
            cell["flush"],
            fluent,
            "<= 25 ms, off the cell's path",
        )
    )
    print(
        row(
            "log LogisticRegression",
            models["lr"],
            models["baseline"],
            "<= 100 ms; baseline: mlflow.sklearn.log_model",
        )
    )
    print(
        row(
            "  its upload (background)",
            models["lr_upload"],
            models["baseline"],
            "off the cell's path",
        )
    )
    print(row("log RandomForest (100 trees)", models["rf"], models["baseline"], "<= 300 ms"))
    print(
        row(
            "  its upload (background)",
            models["rf_upload"],
            models["baseline"],
            "off the cell's path",
        )
    )
    print(
        row(
            "environment snapshot, cached",
            env["cached"],
            env["freeze"],
            "<= 5 ms; baseline: pip freeze",
        )
    )
    print(row("environment snapshot, cold", env["cold"], env["freeze"], "<= 150 ms"))
    print(
        row(
            "%load_ext jupyter_mlops",
            ext["ours"],
            ext["mlflow"],
            "<= 150 ms; baseline: import mlflow",
        )
    )


if __name__ == "__main__":
    from figures import quiet

    quiet()
    main()
