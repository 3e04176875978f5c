"""What the server extension costs: server start-up, and the runs route's latency for 100 runs.

    .venv/bin/python benchmarks/bench_server.py [--quick]

Start-up: a real ``jupyter server`` started with and without the jupyter_mlops extension (time
until ``/api/status`` answers), plus the in-process cost of importing the extension and
registering its routes. Latency: ``GET /jupyter-mlops/api/runs?limit=100`` on a store holding 100
runs (5 params, 5 metrics each), against the baseline of MLflow's own ``search_runs`` for the same
page called in-process (the route adds HTTP, auth, JSON and the thread hop).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jupyter_mlops.workspace import Workspace

TOKEN = "bench-token"
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str) -> bytes:
    req = urllib.request.Request(url, headers={"Authorization": f"token {TOKEN}"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return resp.read()


class Server:
    """A ``jupyter server`` process serving ``root``; the extension on or off."""

    def __init__(self, root: Path, scratch: Path, extension: bool) -> None:
        scratch.mkdir(parents=True, exist_ok=True)
        config = scratch / f"config-{extension}.json"
        config.write_text(
            json.dumps({"ServerApp": {"jpserver_extensions": {"jupyter_mlops": extension}}})
        )
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "MLOPS_"))}
        env["JUPYTER_RUNTIME_DIR"] = str(scratch / "runtime")
        env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            [
                str(BIN / "jupyter-server"),
                "--no-browser",
                "--allow-root",
                "--ip=127.0.0.1",
                f"--port={self.port}",
                "--ServerApp.port_retries=0",
                f"--IdentityProvider.token={TOKEN}",
                f"--ServerApp.root_dir={root}",
                f"--config={config}",
            ],
            cwd=root,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def wait_ready(self, timeout: float = 60) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                get(f"{self.url}/api/status")
                return time.perf_counter() - self.started
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError("jupyter server exited") from None
                time.sleep(0.02)
        raise RuntimeError("jupyter server not ready")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def make_store(root: Path, n_runs: int) -> tuple[list[str], Workspace]:
    """A workspace holding ``n_runs`` runs; returns the experiment ids and the workspace."""
    from mlflow.entities import Metric, Param

    from jupyter_mlops.store.client import client_for, experiment_id

    (root / "mlops.yaml").write_text("project: bench\n")
    ws = Workspace.find(root)
    client = client_for(ws)
    exp = experiment_id(ws)
    now = int(time.time() * 1000)
    for i in range(n_runs):
        run = client.create_run(exp, run_name=f"run-{i:03d}", start_time=now + i)
        client.log_batch(
            run.info.run_id,
            metrics=[Metric(f"m{k}", i / (k + 1), now, 0) for k in range(5)],
            params=[Param(f"p{k}", str(i * k)) for k in range(5)],
        )
    exp_ids = [e.experiment_id for e in client.search_experiments()]
    return exp_ids, ws


def p50(samples: list[float]) -> float:
    return statistics.median(samples)


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def bench_load_in_process() -> float:
    """Import + setup_handlers on a real Tornado application, jupyter_server already loaded."""
    import jupyter_server.serverapp  # noqa: F401  (the server's own imports are not ours)
    import tornado.web

    class FakeServerApp:
        root_dir = tempfile.gettempdir()
        web_app = tornado.web.Application(base_url="/")

    start = time.perf_counter()
    from jupyter_mlops.server import setup_handlers

    setup_handlers(FakeServerApp())
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (< 20 s)")
    args = parser.parse_args()
    starts = 1 if args.quick else 5
    requests = 10 if args.quick else 100

    load_s = bench_load_in_process()
    with tempfile.TemporaryDirectory() as tmp:
        root, scratch = Path(tmp) / "project", Path(tmp) / "scratch"
        root.mkdir()
        exp_ids, ws = make_store(root, 100)
        from jupyter_mlops.store.client import client_for

        client = client_for(ws)
        direct = []
        for _ in range(requests):
            t = time.perf_counter()
            client.search_runs(exp_ids, max_results=100, order_by=["attributes.start_time DESC"])
            direct.append(time.perf_counter() - t)

        start_on, start_off = [], []
        server = None
        try:
            for i in range(starts):
                off = Server(root, scratch, False)
                try:
                    start_off.append(off.wait_ready())
                finally:
                    off.stop()
                server = Server(root, scratch, True)
                start_on.append(server.wait_ready())
                if i < starts - 1:
                    server.stop()
            # the last server with the extension stays up for the latency figures
            url = f"{server.url}/jupyter-mlops/api/runs?limit=100"
            t = time.perf_counter()
            runs = json.loads(get(url))["runs"]
            first = time.perf_counter() - t
            assert len(runs) == 100, len(runs)
            route = []
            for _ in range(requests):
                t = time.perf_counter()
                get(url)
                route.append(time.perf_counter() - t)
        finally:
            if server is not None:
                server.stop()

    ms = 1000.0
    rows = [
        ("server start, extension off (baseline)", p50(start_off) * ms, 1.0),
        ("server start, extension on", p50(start_on) * ms, p50(start_on) / p50(start_off)),
        ("extension import + setup_handlers", load_s * ms, load_s / p50(start_off)),
        ("search_runs 100 in-process p50 (baseline)", p50(direct) * ms, 1.0),
        ("GET runs?limit=100 p50", p50(route) * ms, p50(route) / p50(direct)),
        ("GET runs?limit=100 p95", p95(route) * ms, p95(route) / p50(direct)),
        ("GET runs?limit=100 first (imports MLflow)", first * ms, first / p50(direct)),
    ]
    print(f"{'measure':<44} {'ms':>9} {'ratio':>7}")
    for name, value, ratio in rows:
        print(f"{name:<44} {value:>9.1f} {ratio:>7.2f}")
    print(
        f"(start-up medians of {starts} starts each; latency of {requests} requests; "
        f"added start-up = {(p50(start_on) - p50(start_off)) * ms:+.0f} ms)"
    )


if __name__ == "__main__":
    from figures import quiet

    quiet()
    main()
