"""Runs ordered by a metric, fast, on the embedded store and on PostgreSQL.

MLflow's SQL store sorts by a metric with a query that joins every run's metrics; with 10,000
runs it takes about 5 s on SQLite. Here the database picks the page's run ids from
``latest_metrics`` (indexed by run and key) and MLflow then loads just those runs. The order is
MLflow's own: numbers first, then NaN, then runs without the metric; ties newest first, then by
run id (``ORDER_CLAUSE``, shared with the readers of ``embedded_read`` and ``tracking_db``).

Which database can be read this way:
- the embedded store (SQLite, ``.mlops/mlflow.db``), here;
- a PostgreSQL tracking database (a ``postgresql://`` tracking URI, or a team server whose
  database ``MLOPS_TRACKING_DB_URI`` names): ``store/tracking_db.py`` reads the whole page there.
Any other store, a filter, or a second sort key takes MLflow's own path (through a tracking
server: the server's own SQL query, see benchmarks/bench_runs_page.py for its cost).
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

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


def order_clause(descending: bool) -> str:
    """MLflow's order for ``metrics.KEY``, with ``m`` the run's ``latest_metrics`` row of KEY
    (left-joined) and ``r`` the run: numbers, then NaN (stored as 0 with ``is_nan``), then
    missing; ties newest first, then by run id (MLflow's ``_get_orderby_clauses``)."""
    direction = "DESC" if descending else "ASC"
    return (
        "ORDER BY CASE WHEN m.is_nan THEN 1 WHEN m.value IS NULL THEN 2 ELSE 0 END, "
        f"m.value {direction}, r.start_time DESC, r.run_uuid"
    )


def _page_query(n_experiments: int, descending: bool) -> str:
    marks = ",".join("?" * n_experiments)
    return (
        "SELECT r.run_uuid FROM runs r LEFT JOIN latest_metrics m "
        "ON m.run_uuid = r.run_uuid AND m.key = ? "
        f"WHERE r.experiment_id IN ({marks}) AND r.lifecycle_stage = 'active' "
        f"{order_clause(descending)} LIMIT ? OFFSET ?"
    )


def page_by_metric(
    db: Path,
    client: Any,
    experiment_ids: list[str],
    key: str,
    descending: bool,
    limit: int,
    page_token: str | None,
) -> tuple[list[Run], str | None] | None:
    """One page of the embedded store ``db`` ordered by ``key`` (MLflow's order), or None when
    not applicable."""
    offset = _offset(page_token)
    if offset is None or not experiment_ids:
        return None
    query = _page_query(len(experiment_ids), descending)
    params = [key, *experiment_ids, limit + 1, offset]
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        ids: list[str] = [row[0] for row in con.execute(query, params)]
    finally:
        con.close()
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
