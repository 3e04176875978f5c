"""Batch scoring benchmark: `jupyter-mlops score` against `mlflow models predict` on one file.

    .venv/bin/python benchmarks/bench_score.py [--quick]

One registered scikit-learn model (scaler + logistic regression on 8 features), one CSV of 1M
rows (``--quick`` too: the figure is rows/s at that size), scored
- by ``mlflow models predict -t csv --env-manager local`` (a subprocess: no environment is
  created or downloaded), the baseline;
- by ``score`` with the local engine (batches of 100,000 rows), every prediction logged;
- by ``score`` with the dask engine on a 2-worker ``LocalCluster``: started inside the measured
  time, as a one-off command does, and already running (``--scheduler``) with warm workers.
Each figure is rows/s with its ratio to the baseline measured in the same run; the prediction
log's rows are checked against the file's.
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

ROWS = 1_000_000


def make_file(path: Path, rows: int) -> None:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(1)
    pd.DataFrame(rng.normal(size=(rows, 8)), columns=[f"f{i}" for i in range(8)]).to_csv(
        path, index=False, float_format="%.6f"
    )


def mlflow_predict(source: str, csv: Path, out: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "mlflow", "models", "predict", "-m", source, "-i", str(csv)]
    cmd += ["-t", "csv", "-o", str(out), "--env-manager", "local"]
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1800)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-2000:])
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="one run of each (the default: best of 2)")
    args = ap.parse_args()
    repeats = 1 if args.quick else 2
    t_start = time.monotonic()

    import mlflow.sklearn  # noqa: F401 -- configures MLflow's loggers, which are quieted next
    from bench_serving import make_workspace

    from jupyter_mlops.monitor.predlog_reader import scan_predictions
    from jupyter_mlops.platforms.score import score
    from jupyter_mlops.quiet import quiet_mlflow
    from jupyter_mlops.release import rollout
    from jupyter_mlops.release.registration import get_version
    from jupyter_mlops.store.gateway import gateway_for

    quiet_mlflow()
    logging.getLogger("mlflow").setLevel(logging.ERROR)  # the benchmark prints its table only
    logging.getLogger("mlflow.sklearn").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        (tmp / "project").mkdir()
        ws, _ = make_workspace(tmp / "project")
        rollout.promote(gateway_for(ws), "bench", 1, "champion")
        source = get_version(gateway_for(ws), "bench", 1).source.removeprefix("file://")
        csv = tmp / "rows.csv"
        make_file(csv, ROWS)
        gw = gateway_for(ws)
        timings: dict[str, float] = {}
        for _ in range(repeats):
            t = mlflow_predict(source, csv, tmp / "mlflow.json")
            timings["mlflow"] = min(timings.get("mlflow", t), t)
            for engine in ("local", "dask"):
                out = tmp / f"out-{engine}.csv"  # dask: a folder of part files
                started = time.perf_counter()
                result = score(gw, "bench@champion", csv, out, engine=engine, workers=2)
                t = time.perf_counter() - started
                assert result.rows == ROWS, result.rows
                timings[engine] = min(timings.get(engine, t), t)
        # a cluster already running (workers warm: imports done, model loaded once)
        from distributed import LocalCluster

        with LocalCluster(
            n_workers=2, threads_per_worker=1, dashboard_address=None, silence_logs=logging.ERROR
        ) as cluster:
            for i in range(repeats + 1):  # the first run warms the workers up
                out = tmp / "out-running.csv"
                started = time.perf_counter()
                score(
                    gw,
                    "bench@champion",
                    csv,
                    out,
                    engine="dask",
                    scheduler=cluster.scheduler_address,
                )
                t = time.perf_counter() - started
                if i:
                    timings["running"] = min(timings.get("running", t), t)
        logged = scan_predictions(gateway_for(ws), "bench").table.num_rows
        assert logged == ROWS * (repeats * 3 + 1), logged

    base = ROWS / timings["mlflow"]
    rows = [
        ("mlflow models predict (--env-manager local)", timings["mlflow"], base, "baseline"),
        ("score --engine local, logged", timings["local"], ROWS / timings["local"], ""),
        (
            "score --engine dask, 2 workers started for it",
            timings["dask"],
            ROWS / timings["dask"],
            "",
        ),
        (
            "score --engine dask, 2 workers running",
            timings["running"],
            ROWS / timings["running"],
            "",
        ),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'1,000,000 rows from CSV':<{width}}  {'seconds':>8}  {'rows/s':>11}  {'ratio':>6}")
    print("-" * (width + 32))
    for name, seconds, rate, note in rows:
        ratio = note or f"{rate / base:.2f}x"
        print(f"{name:<{width}}  {seconds:>8.2f}  {rate:>11,.0f}  {ratio:>6}")
    print(
        f"(every scored row is in the prediction log; benchmark took {time.monotonic() - t_start:.1f} s)"
    )


if __name__ == "__main__":
    main()
