"""The panel's first answers without MLflow: runs newest first and experiments, read from SQLite.

Importing MLflow costs about 1.5-2.5 s; a panel opened right after the server starts would wait
that long for its first page. On the embedded store, an unfiltered newest-first page of runs and
the experiment list are plain reads of MLflow's own tables (``runs``, ``latest_metrics``,
``params``, ``tags``, ``experiments``), answered here in milliseconds over a read-only connection.
Anything else (a filter, a sort, another store) returns None and takes MLflow's path. Meanwhile
``warm_up`` imports MLflow in a background thread, so the next query that needs it does not wait.

The answers have exactly the shape of ``store.runs.run_summary`` (checked against MLflow's own
answer in tests/test_server_first_page.py); page tokens are MLflow's (base64 JSON offset), so a
page started here continues through MLflow and back.
"""

from __future__ import annotations

import base64
import json
import math
import sqlite3
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from ..errors import NotFound
from ..workspace import Workspace

T = TypeVar("T")

KIND_TAG = "mlops.kind"
INTERNAL_PREFIX = "mlops-"


def _connect(ws: Workspace) -> sqlite3.Connection | None:
    db = ws.state_dir / "mlflow.db"
    if not ws.is_embedded or not db.is_file():
        return None
    try:
        return sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    except sqlite3.Error:
        return None


def _offset(page_token: str | None) -> int | None:
    if not page_token:
        return 0
    try:
        offset = json.loads(base64.b64decode(page_token))["offset"]
    except (ValueError, KeyError, TypeError):
        return None
    return offset if isinstance(offset, int) and offset >= 0 else None


def page_token(offset: int) -> str:
    """MLflow's SQL store token for ``offset`` (SearchUtils.create_page_token)."""
    return base64.b64encode(json.dumps({"offset": offset}).encode("utf-8")).decode("ascii")


def experiments(ws: Workspace) -> list[dict[str, Any]] | None:
    """The active experiments, as ``queries.experiments`` lists them; None: ask MLflow."""
    con = _connect(ws)
    if con is None:
        return None
    try:
        rows = con.execute(
            "SELECT experiment_id, name FROM experiments WHERE lifecycle_stage = 'active'"
        ).fetchall()
    except sqlite3.Error:
        return None
    finally:
        con.close()
    out = [
        {
            "experiment_id": str(exp_id),
            "name": name,
            "internal": name.startswith(INTERNAL_PREFIX),
            "default": name == ws.default_experiment,
        }
        for exp_id, name in rows
    ]
    return sorted(out, key=lambda r: (r["internal"], r["name"].lower()))


def runs_page(
    ws: Workspace,
    *,
    experiment: str | None,
    limit: int,
    page_token_in: str | None,
    order_by: list[str],
    filter_string: str,
) -> dict[str, Any] | None:
    """One newest-first page of runs, or None when MLflow must answer (filter, sort, store)."""
    offset = _offset(page_token_in)
    if filter_string.strip() or order_by or offset is None:
        return None
    con = _connect(ws)
    if con is None:
        return None
    try:
        return _read_page(con, ws, experiment, limit, offset)
    except sqlite3.Error:
        return None  # a schema MLflow changed, a locked file: MLflow answers instead
    finally:
        con.close()


def _experiment_ids(con: sqlite3.Connection, experiment: str | None) -> list[int]:
    rows = con.execute(
        "SELECT experiment_id, name FROM experiments WHERE lifecycle_stage = 'active'"
    ).fetchall()
    if experiment:
        ids = [exp_id for exp_id, name in rows if name == experiment]
        if not ids:
            raise NotFound(
                f"no experiment named {experiment!r}",
                hint="list them with `jupyter-mlops experiments`",
            )
        return ids
    return [exp_id for exp_id, name in rows if not name.startswith(INTERNAL_PREFIX)]


def _read_page(
    con: sqlite3.Connection, ws: Workspace, experiment: str | None, limit: int, offset: int
) -> dict[str, Any]:
    exp_ids = _experiment_ids(con, experiment)
    if not exp_ids:
        return {"runs": [], "next_page_token": None}
    marks = ",".join("?" * len(exp_ids))
    rows = con.execute(
        "SELECT run_uuid, name, experiment_id, status, start_time, end_time FROM runs "
        f"WHERE experiment_id IN ({marks}) AND lifecycle_stage = 'active' "
        "ORDER BY start_time DESC, run_uuid LIMIT ? OFFSET ?",
        [*exp_ids, limit + 1, offset],
    ).fetchall()
    more = len(rows) > limit
    rows = rows[:limit]
    ids = [r[0] for r in rows]
    metrics, params, tags = _children(con, ids)
    runs = []
    for run_id, name, exp_id, status, start, end in rows:
        run_tags = tags.get(run_id, {})
        runs.append(
            {
                "run_id": run_id,
                "name": name,
                "experiment_id": str(exp_id),
                "status": status,
                "start_time": start,
                "end_time": end,
                "kind": run_tags.get(KIND_TAG, ""),
                "params": params.get(run_id, {}),
                "metrics": metrics.get(run_id, {}),
                "tags": {k: v for k, v in run_tags.items() if not k.startswith("mlflow.")},
            }
        )
    return {"runs": runs, "next_page_token": page_token(offset + limit) if more else None}


def _children(con: sqlite3.Connection, ids: list[str]) -> tuple[dict, dict, dict]:
    metrics: dict[str, dict[str, float]] = {}
    params: dict[str, dict[str, str]] = {}
    tags: dict[str, dict[str, str]] = {}
    if not ids:
        return metrics, params, tags
    marks = ",".join("?" * len(ids))
    for run_id, key, value, is_nan in con.execute(
        f"SELECT run_uuid, key, value, is_nan FROM latest_metrics WHERE run_uuid IN ({marks})", ids
    ):
        metrics.setdefault(run_id, {})[key] = math.nan if is_nan else value
    for table, into in (("params", params), ("tags", tags)):
        for run_id, key, value in con.execute(
            f"SELECT run_uuid, key, value FROM {table} WHERE run_uuid IN ({marks})", ids
        ):
            into.setdefault(run_id, {})[key] = value
    return metrics, params, tags


# Set while no warm-up is importing MLflow. A second thread importing MLflow at the same time can
# get a half-initialised module (its protobuf descriptors fail to load), so whatever needs MLflow
# waits for the warm-up first (MlopsService does, for every query but the light ones here).
_warm = threading.Event()
_warm.set()
WARM_UP_TIMEOUT_S = 120.0


def wait_for_warm_up(timeout: float = WARM_UP_TIMEOUT_S) -> None:
    """Return once no warm-up is importing MLflow (at once when none runs)."""
    _warm.wait(timeout)


def light(fn: Callable[..., T]) -> Callable[..., T]:
    """Mark a query that answers without MLflow when it can (it waits itself before using it)."""
    fn.reads_without_mlflow = True  # type: ignore[attr-defined]
    return fn


def is_light(fn: Callable[..., Any]) -> bool:
    return bool(getattr(fn, "reads_without_mlflow", False))


def warm_up(ws: Workspace) -> threading.Thread:
    """Import MLflow and open the store's client in a daemon thread, off the request path."""

    def work() -> None:
        try:
            from ..store.client import client_for

            if not ws.is_embedded or (ws.state_dir / "mlflow.db").is_file():
                client_for(ws)
            else:
                import mlflow  # noqa: F401  (the store is made by the first write, not here)
        except Exception:  # a warm-up is a courtesy: the first real query reports any problem
            pass
        finally:
            _warm.set()

    _warm.clear()
    thread = threading.Thread(target=work, name="jupyter-mlops-warm-up", daemon=True)
    thread.start()
    return thread


def warm_up_when_serving(ws: Workspace) -> None:
    """Start ``warm_up`` once the server's event loop runs (never in a process that only loads
    the extension, such as a test or a benchmark importing it)."""
    from tornado.ioloop import IOLoop

    IOLoop.current().add_callback(warm_up, ws)
