"""Serving router benchmark: overhead, throughput against ``mlflow models serve``, split, rollouts.

    .venv/bin/python benchmarks/bench_serving.py [--quick]

Figures (all measured in this run, on this machine):
- router overhead: p50 of one HTTP request (keep-alive) minus p50 of calling the same pyfunc
  model in-process on the same row (budget: at most 1 ms);
- throughput: requests/s of ``jupyter-mlops serve`` and of ``mlflow models serve --env-manager
  local -w 1`` for the same model, same load generator (budget: ratio at least 1x);
- traffic split: canary share over 10,000 requests at weight 20% (budget: within 1 point);
- promotions and rollbacks under load: failed requests (budget: zero).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_workspace(tmp: Path):
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from jupyter_mlops.release import registration
    from jupyter_mlops.store.client import client_for, experiment_id
    from jupyter_mlops.store.gateway import gateway_for
    from jupyter_mlops.workspace import Workspace

    (tmp / "mlops.yaml").write_text("project: bench\n")
    ws = Workspace.find(tmp)
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(500, 8)), columns=[f"f{i}" for i in range(8)])
    y = (X["f0"] + X["f1"] > 0).astype(int)
    client = client_for(ws)
    for C in (1.0, 0.1):
        model = make_pipeline(StandardScaler(), LogisticRegression(C=C)).fit(X, y)
        run_id = _log(ws, client, experiment_id(ws), model, X)
        mv = registration.register(gateway_for(ws), run_id, "bench")
        client.set_model_version_tag("bench", mv.version, "mlops.gates", "passed")
    return ws, X


def _log(ws, client, exp, model, X) -> str:
    import mlflow.sklearn
    from mlflow.entities import LoggedModelOutput
    from mlflow.models import infer_signature

    run = client.create_run(exp)
    lm = client.create_logged_model(exp, name="model", source_run_id=run.info.run_id)
    with tempfile.TemporaryDirectory() as d:
        mlflow.sklearn.save_model(
            model,
            f"{d}/m",
            serialization_format="cloudpickle",
            signature=infer_signature(X.head(5), model.predict(X.head(5))),
            input_example=X.head(2),
            pip_requirements=["scikit-learn", "cloudpickle"],
        )
        client.log_model_artifacts(lm.model_id, f"{d}/m")
    client.finalize_logged_model(lm.model_id, "READY")
    client.log_outputs(run.info.run_id, [LoggedModelOutput(model_id=lm.model_id, step=0)])
    client.set_terminated(run.info.run_id)
    return run.info.run_id


def launch(cmd: list[str], env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True, env=env
    )


def wait_ready(proc: subprocess.Popen, port: int, cmd: list[str], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            c.request("GET", "/ping")
            if c.getresponse().status == 200:
                return
        except OSError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(proc.stderr.read().decode()[-2000:])
        time.sleep(0.1)
    stop(proc)
    raise RuntimeError(f"{cmd[:3]} did not answer /ping in {timeout} s")


def stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)  # this server's own process group only
        proc.wait(10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, signal.SIGKILL)


def post(conn: http.client.HTTPConnection, body: bytes) -> tuple[int, str | None]:
    conn.request("POST", "/invocations", body, {"Content-Type": "application/json"})
    r = conn.getresponse()
    r.read()
    return r.status, r.getheader("X-Model-Version")


def latencies(port: int, body: bytes, n: int, model=None, row=None) -> tuple[list, list]:
    """HTTP round trips, each paired with an in-process predict of the same row right after it,
    so both see the same machine load (the machine is shared)."""
    conn = http.client.HTTPConnection("127.0.0.1", port)
    for _ in range(20):
        post(conn, body)
    out, local = [], []
    for _ in range(n):
        t0 = time.perf_counter()
        post(conn, body)
        out.append((time.perf_counter() - t0) * 1000)
        if model is not None:
            t0 = time.perf_counter()
            model.predict(row)
            local.append((time.perf_counter() - t0) * 1000)
    conn.close()
    return out, local


def throughput(port: int, body: bytes, seconds: float, clients: int = 4) -> tuple[float, int]:
    counts, errors = [0] * clients, [0] * clients
    stop_at = time.monotonic() + seconds

    def worker(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port)
        while time.monotonic() < stop_at:
            status, _ = post(conn, body)
            counts[i] += 1
            errors[i] += status != 200
        conn.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.monotonic() - t0), sum(errors)


def p(values: list[float], q: float) -> float:
    import numpy as np

    return float(np.percentile(values, q))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    t_start = time.monotonic()
    args = ap.parse_args()
    n_lat, secs, n_split, n_flips = (200, 1.0, 1000, 2) if args.quick else (2000, 8.0, 10_000, 10)

    import mlflow.pyfunc

    from jupyter_mlops.release import rollout
    from jupyter_mlops.release.registration import get_version
    from jupyter_mlops.store.gateway import gateway_for

    rows = []
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        ws, X = make_workspace(tmp)
        rollout.promote(gateway_for(ws), "bench", 1, "champion")
        row = X.head(1)
        body = json.dumps(
            {"dataframe_split": {"columns": list(row.columns), "data": row.values.tolist()}}
        ).encode()
        source = get_version(gateway_for(ws), "bench", 1).source.removeprefix("file://")
        model = mlflow.pyfunc.load_model(source)
        for _ in range(50):
            model.predict(row)
        inproc = (model, row)

        # mlflow models serve execs `uvicorn` from PATH: the interpreter's own bin folder first
        path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "MLFLOW_TRACKING_URI": ws.tracking_uri,
            "PATH": path,
        }
        ours_port, theirs_port = free_port(), free_port()
        ours_cmd = [sys.executable, "-m", "jupyter_mlops.cli", "-C", str(tmp), "serve", "bench"]
        ours_cmd += ["--port", str(ours_port)]
        theirs_cmd = [sys.executable, "-m", "mlflow", "models", "serve", "-m", source]
        theirs_cmd += ["--env-manager", "local", "-w", "1", "-p", str(theirs_port)]
        # both start at once (each takes seconds of imports), then are measured one at a time
        procs = [launch(ours_cmd, env), launch(theirs_cmd, env)]
        try:
            wait_ready(procs[0], ours_port, ours_cmd)
            wait_ready(procs[1], theirs_port, theirs_cmd)
            rows += measure(ws, ours_port, theirs_port, body, inproc, n_lat, secs, n_split, n_flips)
        finally:
            for proc in procs:
                stop(proc)

    width = max(len(r[0]) for r in rows)
    print(f"{'figure':<{width}}  {'value':>16}  {'budget':>10}  note")
    print("-" * (width + 44))
    for name, value, budget, note in rows:
        print(f"{name:<{width}}  {value:>16}  {budget:>10}  {note}")
    print(f"(benchmark took {time.monotonic() - t_start:.1f} s)")


def measure(ws, ours_port, theirs_port, body, inproc, n_lat, secs, n_split, n_flips) -> list:
    from jupyter_mlops.release import rollout
    from jupyter_mlops.store.gateway import gateway_for

    rows = []
    lat, inproc = latencies(ours_port, body, n_lat, *inproc)
    ours_rps, ours_err = throughput(ours_port, body, secs)
    their_lat, _ = latencies(theirs_port, body, n_lat)
    theirs_rps, theirs_err = throughput(theirs_port, body, secs)

    overhead = p(lat, 50) - p(inproc, 50)
    rows.append(("pyfunc predict in-process, p50 (ms)", f"{p(inproc, 50):.3f}", "baseline", ""))
    rows.append(("router request, p50 / p95 (ms)", f"{p(lat, 50):.3f} / {p(lat, 95):.3f}", "", ""))
    rows.append(
        (
            "mlflow models serve request, p50 (ms)",
            f"{p(their_lat, 50):.3f}",
            "",
            f"ours {p(their_lat, 50) / p(lat, 50):.2f}x faster",
        )
    )
    rows.append(
        (
            "router overhead over in-process, p50 (ms)",
            f"{overhead:.3f}",
            "<= 1 ms",
            "ok" if overhead <= 1 else "OVER",
        )
    )
    ratio = ours_rps / theirs_rps
    rows.append(
        ("throughput jupyter-mlops serve (req/s)", f"{ours_rps:.0f}", "", f"{ours_err} errors")
    )
    rows.append(
        (
            "throughput mlflow models serve (req/s)",
            f"{theirs_rps:.0f}",
            "baseline",
            f"{theirs_err} errors",
        )
    )
    rows.append(("throughput ratio", f"{ratio:.2f}x", ">= 1x", "ok" if ratio >= 1 else "UNDER"))

    # traffic split and rollouts against the running router
    rollout.promote(gateway_for(ws), "bench", 2, "canary", weight=20)
    conn = http.client.HTTPConnection("127.0.0.1", ours_port)
    deadline = time.monotonic() + 5
    while post(conn, body)[1] != "2" and time.monotonic() < deadline:
        pass
    seen = [post(conn, body)[1] for _ in range(n_split)]
    share = seen.count("2") / len(seen) * 100
    rows.append(
        (
            f"canary share over {n_split} requests at 20% (%)",
            f"{share:.2f}",
            "20 +- 1",
            "ok" if abs(share - 20) <= 1 else "OFF",
        )
    )
    rollout.rollback(gateway_for(ws), "bench", reason="bench")

    failures, done = [], [0]
    halt = threading.Event()

    def load() -> None:
        c = http.client.HTTPConnection("127.0.0.1", ours_port)
        while not halt.is_set():
            status, _ = post(c, body)
            done[0] += 1
            if status != 200:
                failures.append(status)

    workers = [threading.Thread(target=load) for _ in range(2)]
    for w in workers:
        w.start()
    switch = []
    try:
        for _ in range(n_flips // 2):
            rollout.promote(gateway_for(ws), "bench", 2, "champion")
            time.sleep(0.6)
            t0 = time.monotonic()
            rollout.rollback(gateway_for(ws), "bench", reason="bench")
            while time.monotonic() - t0 < 5:
                c = http.client.HTTPConnection("127.0.0.1", ours_port)
                if post(c, body)[1] == "1":
                    break
                time.sleep(0.02)
            switch.append(time.monotonic() - t0)
    finally:
        halt.set()
        for w in workers:
            w.join()
    rows.append(
        (
            f"failed requests over {n_flips} promotions+rollbacks",
            str(len(failures)),
            "0",
            f"{done[0]} requests",
        )
    )
    rows.append(
        (
            "rollback visible after, max (s)",
            f"{max(switch):.2f}",
            "<= 1 s",
            "ok" if max(switch) <= 1 else "SLOW",
        )
    )
    return rows


if __name__ == "__main__":
    from figures import quiet

    quiet()
    main()
