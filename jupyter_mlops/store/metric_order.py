"""Runs ordered by a metric, fast, on the embedded store and on PostgreSQL.

MLflow's SQL store sorts by a metric with a query that joins every run's metrics; with 10,000
runs it takes about 5 s on SQLite. Here the database picks the page's run ids from
``latest_metrics`` (indexed by run and key) and MLflow then loads just those runs.

Which database can be read this way:
- the embedded store (SQLite, ``.mlops/mlflow.db``);
- a tracking URI that is itself a PostgreSQL database (``postgresql://...``);
- a team server (``http://...``) when ``MLOPS_TRACKING_DB_URI`` names its PostgreSQL database,
  read-only (e.g. for a Jupyter server running next to the tracking server).
Any other store, a filter, or a second sort key takes MLflow's own path (through a tracking
server: the server's own SQL query, see benchmarks/bench_runs_page.py for its cost).
"""

from __future__ import annotations

import os
import re
import sqlite3
from typing import TYPE_CHECKING, Any

from ..workspace import Workspace

if TYPE_CHECKING:
    from mlflow.entities import Run

_METRIC_CLAUSE = re.compile(r"^metrics\.(`[^`]+`|[\w.\-]+)( (ASC|DESC))?$")


def parse_metric_order(order_by: list[str] | None) -> tuple[str, bool] | None:
    """(metric key, descending) for a single ``metrics.KEY [ASC|DESC]`` clause, else None."""
    if not order_by or len(order_by) != 1:
        return None
    match = _METRIC_CLAUSE.match(order_by[0].strip())
    if match is None:
        return None
    return match.group(1).strip("`"), match.group(3) == "DESC"


def _offset(page_token: str | None) -> int | None:
    if not page_token:
        return 0
    from mlflow.utils.search_utils import SearchUtils

    try:
        return int(SearchUtils.parse_start_offset_from_page_token(page_token))
    except Exception:
        return None


def _page_query(n_experiments: int, descending: bool) -> str:
    marks = ",".join("?" * n_experiments)
    direction = "DESC" if descending else "ASC"
    return (
        "SELECT r.run_uuid FROM runs r LEFT JOIN latest_metrics m "
        "ON m.run_uuid = r.run_uuid AND m.key = ? "
        f"WHERE r.experiment_id IN ({marks}) AND r.lifecycle_stage = 'active' "
        f"ORDER BY m.value IS NULL, m.value {direction}, r.start_time DESC, r.run_uuid "
        "LIMIT ? OFFSET ?"
    )


def _postgres_uri(ws: Workspace) -> str | None:
    """A libpq URI of the tracking database, when it is PostgreSQL and we may read it."""
    uri = ws.tracking_uri
    if not uri.startswith("postgresql"):
        uri = os.environ.get("MLOPS_TRACKING_DB_URI", "")
        if not uri.startswith("postgresql") or not ws.tracking_uri.startswith("http"):
            return None
    scheme, sep, rest = uri.partition("://")
    return f"postgresql://{rest}" if sep else None


def _postgres_ids(uri: str, query: str, params: list[Any]) -> list[str] | None:
    """The page's run ids, or None when the database cannot be read (MLflow's path then)."""
    try:
        import psycopg
    except ImportError:
        return None
    try:
        with psycopg.connect(uri, connect_timeout=5) as con:
            con.read_only = True
            # experiment ids are integers in MLflow's schema
            params = [params[0], *(int(e) for e in params[1:-2]), *params[-2:]]
            return [row[0] for row in con.execute(query, params)]
    except (psycopg.Error, ValueError):
        return None


def page_by_metric(
    ws: Workspace,
    client: Any,
    experiment_ids: list[str],
    key: str,
    descending: bool,
    limit: int,
    page_token: str | None,
) -> tuple[list[Run], str | None] | None:
    """One page ordered by ``key`` (missing values last, like MLflow), or None when not applicable."""
    offset = _offset(page_token)
    if offset is None or not experiment_ids:
        return None
    query = _page_query(len(experiment_ids), descending)
    params = [key, *experiment_ids, limit + 1, offset]
    db = ws.state_dir / "mlflow.db"
    postgres = _postgres_uri(ws)
    if ws.is_embedded and db.exists():
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
        try:
            ids: list[str] = [row[0] for row in con.execute(query, params)]
        finally:
            con.close()
    elif postgres is not None:
        found = _postgres_ids(postgres, query.replace("?", "%s"), params)
        if found is None:
            return None
        ids = found
    else:
        return None
    more = len(ids) > limit
    ids = ids[:limit]
    if not ids:
        return [], None
    quoted = ",".join(f"'{i}'" for i in ids)  # ids come from the store itself: hex strings
    runs = client.search_runs(
        experiment_ids, filter_string=f"attributes.run_id IN ({quoted})", max_results=len(ids)
    )
    by_id = {r.info.run_id: r for r in runs}
    token = None
    if more:
        from mlflow.utils.search_utils import SearchUtils

        token = SearchUtils.create_page_token(offset + limit)
        token = token.decode() if isinstance(token, bytes) else token
    return [by_id[i] for i in ids if i in by_id], token
