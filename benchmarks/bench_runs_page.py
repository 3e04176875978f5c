"""The Runs tab's first page with 10,000 runs in the store: server time, against MLflow.

    .venv/bin/python benchmarks/bench_runs_page.py [--quick] [--team]

Server time is what the ``GET /jupyter-mlops/api/runs?limit=100`` handler runs in its worker
thread (``server.runs.runs_page``: the MLflow query, the run summaries) plus the JSON encoding of
the answer, newest first and sorted by a metric. Target: at most 300 ms. Baselines, measured in
the same run: MLflow's ``search_runs`` of all runs into a DataFrame (what a notebook user of
MLflow does to see the table, about 5 s), and MLflow's client fetching the same first page.

Seeding 10,000 runs through MLflow's API takes minutes; instead one real run (5 params, 5
metrics, 3 tags) is created through MlflowClient and its rows are copied 10,000 times with new
ids in SQLite, and the seeded store is cached in the temp folder for the next runs.

``--team`` measures the same page against a team server instead: a throwaway PostgreSQL
cluster and ``mlflow server`` on it (harness/team_server.py; needs Debian's PostgreSQL server
binaries and the ``team`` extra), seeded the same way with COPY. It prints the page through the
server (MLflow's ``runs/search``: the baseline) and with the database read directly
(``MLOPS_TRACKING_DB_URI``, store/tracking_db.py), newest first and sorted by a metric.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "harness"))

ROOT = Path(__file__).resolve().parents[1]
N_RUNS = 10_000
PAGE = 100
TARGET_MS = 300.0


def seeded_store(n: int) -> Path:
    """A project folder whose embedded store holds ``n`` finished runs (cached)."""
    import mlflow

    cache = Path(tempfile.gettempdir()) / "jupyter-mlops-bench" / f"runs-{n}-{mlflow.__version__}"
    db = cache / ".mlops" / "mlflow.db"
    if db.is_file():
        return cache
    shutil.rmtree(cache, ignore_errors=True)
    (cache / ".mlops").mkdir(parents=True)
    (cache / "mlops.yaml").write_text("project: bench-runs\n")
    from jupyter_mlops.store.client import client_for, experiment_id
    from jupyter_mlops.workspace import Workspace

    ws = Workspace.find(cache)
    client = client_for(ws)
    exp = experiment_id(ws)
    from mlflow.entities import Metric, Param, RunTag

    run = client.create_run(exp, run_name="template")
    rid = run.info.run_id
    now = int(time.time() * 1000)
    client.log_batch(
        rid,
        metrics=[Metric(f"m{i}", 0.5, now, 0) for i in range(5)],
        params=[Param(f"p{i}", str(i)) for i in range(5)],
        tags=[RunTag("mlops.kind", "cell"), RunTag("mlops.notebook", "train.ipynb")],
    )
    client.set_terminated(rid, "FINISHED")
    from jupyter_mlops.store.client import forget_cached_clients

    forget_cached_clients()
    with sqlite3.connect(db) as con:
        con.row_factory = sqlite3.Row

        def rows(table: str, key: str) -> list[dict]:
            return [dict(r) for r in con.execute(f"SELECT * FROM {table} WHERE {key} = ?", (rid,))]

        templates = {
            "runs": rows("runs", "run_uuid"),
            "metrics": rows("metrics", "run_uuid"),
            "latest_metrics": rows("latest_metrics", "run_uuid"),
            "params": rows("params", "run_uuid"),
            "tags": rows("tags", "run_uuid"),
        }
        for i in range(n - 1):
            new = uuid.uuid4().hex
            value = (i * 7919 % 10_000) / 10_000
            for table, template in templates.items():
                for row in template:
                    row = dict(row, run_uuid=new)
                    if table == "runs":
                        row.update(name=f"run-{i}", start_time=now + i, end_time=now + i + 5)
                        if "artifact_uri" in row:
                            row["artifact_uri"] = row["artifact_uri"].replace(rid, new)
                    elif table in ("metrics", "latest_metrics"):
                        row["value"] = value
                    elif table == "tags" and row["key"] == "mlflow.runName":
                        row["value"] = f"run-{i}"
                    cols = ", ".join(row)
                    marks = ", ".join("?" for _ in row)
                    con.execute(
                        f"INSERT INTO {table} ({cols}) VALUES ({marks})", list(row.values())
                    )
        con.commit()
    return cache


def timed(fn, reps: int) -> list[float]:
    out = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def seed_postgres(cluster, database: str, url: str, n: int = N_RUNS) -> None:
    """``n`` finished runs on a team server: one real run made through MLflow, its rows copied
    with new ids (COPY) straight into its PostgreSQL database."""
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param, RunTag
    from psycopg.rows import dict_row

    client = MlflowClient(tracking_uri=url)
    exp = client.create_experiment("bench-runs")
    run = client.create_run(exp, run_name="template")
    rid, now = run.info.run_id, int(time.time() * 1000)
    client.log_batch(
        rid,
        metrics=[Metric(f"m{i}", 0.5, now, 0) for i in range(5)],
        params=[Param(f"p{i}", str(i)) for i in range(5)],
        tags=[RunTag("mlops.kind", "cell"), RunTag("mlops.notebook", "train.ipynb")],
    )
    client.set_terminated(rid, "FINISHED")
    with cluster.connect(database) as con:
        con.row_factory = dict_row
        templates = {
            t: con.execute(f"SELECT * FROM {t} WHERE run_uuid = %s", (rid,)).fetchall()
            for t in ("runs", "metrics", "latest_metrics", "params", "tags")
        }
        ids = [uuid.uuid4().hex for _ in range(n - 1)]
        with con.transaction(), con.cursor() as cur:
            for table, template in templates.items():
                cols = list(template[0])
                with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
                    for i, new in enumerate(ids):
                        for row in template:
                            copy.write_row([_seeded(table, row, i, new, rid, now)[c] for c in cols])
        con.execute("ANALYZE")


def _seeded(table: str, row: dict, i: int, new: str, template_id: str, now: int) -> dict:
    row = dict(row, run_uuid=new)
    if table == "runs":
        row.update(name=f"run-{i}", start_time=now + i, end_time=now + i + 5)
        row["artifact_uri"] = row["artifact_uri"].replace(template_id, new)
    elif table in ("metrics", "latest_metrics"):
        row["value"] = (i * 7919 % 10_000) / 10_000
    elif table == "tags" and row["key"] == "mlflow.runName":
        row["value"] = f"run-{i}"
    return row


def team_page_ms(project: Path, reps: int, by_metric: bool) -> float:
    """Median ms of the Runs tab's first page (handler + JSON) against the current store."""
    from jupyter_mlops.server.runs import runs_page
    from jupyter_mlops.server.service import MlopsService
    from jupyter_mlops.store.client import forget_cached_clients
    from jupyter_mlops.store.tracking_db import forget_connections

    forget_cached_clients()
    forget_connections()
    service = MlopsService(project)
    order = ["metrics.m0 DESC"] if by_metric else None

    def page() -> None:
        answer = runs_page(service, limit=PAGE, order_by=order)
        assert len(answer["runs"]) == PAGE, len(answer["runs"])
        json.dumps(answer, default=str)

    page()  # warm: imports, connections, experiment ids
    times = timed(page, reps)
    service.shutdown()
    return statistics.median(times)


def team_pages(cluster, database: str, url: str, work: Path, reps: int) -> dict[str, float]:
    """The first page through the server and read directly from its database, in ms."""
    seed_postgres(cluster, database, url)
    project = work / "runs-project"
    project.mkdir()
    (project / "mlops.yaml").write_text("project: bench-runs\n")
    os.environ["MLFLOW_TRACKING_URI"] = url
    os.environ.pop("MLOPS_TRACKING_DB_URI", None)
    out = {
        "server: newest first": team_page_ms(project, reps, False),
        "server: sorted by a metric": team_page_ms(project, reps, True),
    }
    os.environ["MLOPS_TRACKING_DB_URI"] = cluster.uri(database, driver="postgresql")
    out["server + direct DB read: newest first"] = team_page_ms(project, reps, False)
    out["server + direct DB read: sorted by a metric"] = team_page_ms(project, reps, True)
    os.environ.pop("MLOPS_TRACKING_DB_URI", None)
    return out


def main_team(reps: int) -> None:
    import team_server

    work = Path(tempfile.mkdtemp(prefix="bench-runs-team-"))
    cluster = team_server.PostgresCluster().start()
    server = None
    try:
        backend = cluster.create_database("mlflow")
        server = team_server.MlflowServer(backend, work / "artifacts", work / "server").start()
        pages = team_pages(cluster, "mlflow", server.url, work, reps)
    finally:
        if server is not None:
            server.stop()
        cluster.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(
        f"team server (PostgreSQL), runs: {N_RUNS}, page: {PAGE}, repetitions: {reps}; "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    print(f"{'measure':<62} {'median ms':>10}")
    for label, value in pages.items():
        print(f"{label:<62} {value:>10.1f}")
    for kind in ("newest first", "sorted by a metric"):
        direct, through = pages[f"server + direct DB read: {kind}"], pages[f"server: {kind}"]
        print(
            f"{'ratio: through the server / direct DB read, ' + kind:<62} {through / direct:>10.1f}x"
        )
        verdict = "OK" if direct <= TARGET_MS else "OVER"
        print(
            f"{'target: first page <= 300 ms, direct DB read, ' + kind:<62} {direct:>10.1f} {verdict}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (< 20 s)")
    parser.add_argument("--team", action="store_true", help="against a team server (PostgreSQL)")
    args = parser.parse_args()
    reps = 5 if args.quick else 20
    if args.team:
        main_team(reps)
        return

    seed_start = time.perf_counter()
    root = seeded_store(N_RUNS)
    seed_s = time.perf_counter() - seed_start
    for var in ("MLFLOW_TRACKING_URI", "MLOPS_WORKSPACE", "MLOPS_EXPERIMENT"):
        os.environ.pop(var, None)

    from jupyter_mlops.server.runs import runs_page
    from jupyter_mlops.server.service import MlopsService
    from jupyter_mlops.store.client import client_for

    service = MlopsService(root)
    ws = service.workspace

    def first_page(order_by=None):
        page = runs_page(service, limit=PAGE, order_by=order_by)
        assert len(page["runs"]) == PAGE, len(page["runs"])
        return json.dumps(page, default=str)

    first_page()  # warm: imports, SQLAlchemy engine, experiment ids
    first_page(["metrics.m0 DESC"])  # the newest page reads SQLite alone: warm MLflow's path too
    newest = timed(first_page, reps)
    # MLflow's SQL store sorts by a metric through a join that takes seconds at 10k runs: fewer reps
    by_metric = timed(lambda: first_page(["metrics.m0 DESC"]), 1 if args.quick else 3)

    client = client_for(ws)
    exp_ids = [e.experiment_id for e in client.search_experiments()]
    mlflow_page = timed(
        lambda: client.search_runs(
            exp_ids, max_results=PAGE, order_by=["attributes.start_time DESC"]
        ),
        reps,
    )

    import mlflow

    os.environ["MLFLOW_TRACKING_URI"] = ws.tracking_uri  # the fluent API reads its URI from here
    base_reps = 1 if args.quick else 3
    frames = []

    def all_runs():
        frames.append(mlflow.search_runs(experiment_ids=exp_ids, max_results=N_RUNS + 10))

    baseline = timed(all_runs, base_reps)
    assert len(frames[-1]) == N_RUNS, len(frames[-1])

    med = statistics.median
    rows = [
        ("first page, newest first (jupyter-mlops)", med(newest)),
        ("first page, sorted by a metric (jupyter-mlops)", med(by_metric)),
        ("first page, MlflowClient.search_runs (baseline)", med(mlflow_page)),
        (f"mlflow.search_runs of all {N_RUNS} into a DataFrame (baseline)", med(baseline)),
    ]
    load = os.getloadavg()
    print(
        f"runs in store: {N_RUNS}, page: {PAGE}, repetitions: {reps} (baseline {base_reps}); "
        f"seed/cache {seed_s:.1f} s; load average {load[0]:.2f}"
    )
    print(f"{'measure':<62} {'median ms':>10}")
    for label, value in rows:
        print(f"{label:<62} {value:>10.1f}")
    print(
        f"{'ratio: all-runs DataFrame / our first page':<62} {med(baseline) / med(newest):>10.1f}x"
    )
    print(
        f"{'ratio: our first page / MLflow client page':<62} {med(newest) / med(mlflow_page):>10.2f}x"
    )
    for label, value in (("newest first", med(newest)), ("sorted by a metric", med(by_metric))):
        verdict = "OK" if value <= TARGET_MS else "OVER"
        print(f"{'target: first page <= 300 ms, ' + label:<62} {value:>10.1f} {verdict}")


if __name__ == "__main__":
    from figures import quiet

    quiet()
    main()
