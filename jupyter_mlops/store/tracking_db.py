"""A page of runs read straight from a team server's PostgreSQL database, read-only.

Through an MLflow server, one page of the Runs table costs two round trips (the experiments, then
``runs/search``), and the server spends most of that time loading and encoding the runs: about
300 ms for 100 runs on a busy machine. When the tracking database itself may be read (the same
network, a read-only role), the page is a handful of plain queries over MLflow's own tables on
one kept connection instead: the page's rows in MLflow's order, then the params, latest metrics,
tags, dataset inputs and model outputs of just those runs. The answer is the same ``Run``
objects MLflow's search returns (checked against it in tests/test_runs_order_postgres.py), and
page tokens are MLflow's, so a page read here continues through the server and back.

Which database: a ``postgresql://`` tracking URI itself, or, for a tracking server
(``http(s)://``), the database ``MLOPS_TRACKING_DB_URI`` names (``Gateway.tracking_db_uri``
decides). A database that cannot be read,
or a schema these queries do not know, returns None: MLflow's path answers (and a database that
refused a connection is not asked again for ``RETRY_AFTER_S``).
"""

from __future__ import annotations

import importlib.util
import math
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from .embedded_read import INTERNAL_PREFIX, page_offset, page_token
from .metric_order import order_clause

if TYPE_CHECKING:
    from mlflow.entities import Run

CONNECT_TIMEOUT_S = 5
RETRY_AFTER_S = 30.0
_RUN_COLUMNS = (
    "r.run_uuid, r.name, r.experiment_id, r.user_id, r.status, r.start_time, r.end_time, "
    "r.lifecycle_stage, r.artifact_uri"
)

_connections: dict[str, Any] = {}
_refused: dict[str, float] = {}
_guard = threading.Lock()


def runs_page(
    uri: str,
    *,
    experiment: str | None,
    metric: tuple[str, bool] | None,
    limit: int,
    page_token_in: str | None,
) -> tuple[list[Run], str | None] | None:
    """One page of runs, newest first or by ``metric`` (key, descending), in MLflow's order and
    with MLflow's page token; None when the database ``uri`` cannot be read this way."""
    offset = page_offset(page_token_in)
    if offset is None or importlib.util.find_spec("psycopg") is None:
        return None
    try:
        with _connection(uri) as con:
            if con is None:
                return None
            exp_ids = _experiment_ids(con, experiment)
            if exp_ids is None:
                return None  # no such experiment: MLflow's path says so
            if not exp_ids:
                return [], None
            rows = _page_rows(con, exp_ids, metric, limit + 1, offset)
            page = rows[:limit]
            runs = _runs(con, page)
    except _DatabaseError:
        return None
    more = len(rows) > limit
    return runs, (page_token(offset + limit) if more else None)


class _DatabaseError(Exception):
    """The database could not answer (gone, a schema we do not know): MLflow's path answers."""


@contextmanager
def _connection(uri: str) -> Iterator[Any]:
    """The kept read-only connection to ``uri``, one user at a time (None: cannot connect).
    A database error drops it and becomes ``_DatabaseError``."""
    import psycopg

    with _guard:
        con = _connections.get(uri)
        if con is None or con.closed:
            con = _connections[uri] = _open(uri)
        try:
            yield con
        except psycopg.Error as error:
            _connections.pop(uri, None)
            if con is not None:
                con.close()
            raise _DatabaseError(str(error)) from error


def _open(uri: str) -> Any:
    if time.monotonic() - _refused.get(uri, -RETRY_AFTER_S) < RETRY_AFTER_S:
        return None
    import psycopg

    try:
        # autocommit: no transaction stays open between pages (it would hold locks and a
        # snapshot on the server's tables); every statement is read-only
        return psycopg.connect(
            uri,
            autocommit=True,
            connect_timeout=CONNECT_TIMEOUT_S,
            options="-c default_transaction_read_only=on",
        )
    except psycopg.Error:
        _refused[uri] = time.monotonic()
        return None


def forget_connections() -> None:
    """Close the kept connections (tests that drop a database; a process about to fork)."""
    with _guard:
        for con in _connections.values():
            if con is not None:
                con.close()
        _connections.clear()
        _refused.clear()


def _experiment_ids(con: Any, experiment: str | None) -> list[int] | None:
    """The active experiments the page covers (all but the internal ``mlops-*`` ones, as
    ``store.runs`` lists them); None for an experiment name that does not exist."""
    if experiment:
        row = con.execute(
            "SELECT experiment_id FROM experiments WHERE name = %s AND lifecycle_stage = 'active'",
            (experiment,),
        ).fetchone()
        return [row[0]] if row else None
    rows = con.execute(
        "SELECT experiment_id, name FROM experiments WHERE lifecycle_stage = 'active'"
    ).fetchall()
    return [exp_id for exp_id, name in rows if not name.startswith(INTERNAL_PREFIX)]


def _page_rows(
    con: Any, exp_ids: list[int], metric: tuple[str, bool] | None, limit: int, offset: int
) -> list[tuple[Any, ...]]:
    where = "r.experiment_id = ANY(%s) AND r.lifecycle_stage = 'active'"
    if metric is None:
        # MLflow's newest first: runs without a start time last, ties by id
        sql = (
            f"SELECT {_RUN_COLUMNS} FROM runs r WHERE {where} "
            "ORDER BY r.start_time IS NULL, r.start_time DESC, r.run_uuid LIMIT %s OFFSET %s"
        )
        rows: list[tuple[Any, ...]] = con.execute(sql, (exp_ids, limit, offset)).fetchall()
        return rows
    key, descending = metric
    sql = (
        f"SELECT {_RUN_COLUMNS} FROM runs r LEFT JOIN latest_metrics m "
        f"ON m.run_uuid = r.run_uuid AND m.key = %s WHERE {where} "
        f"{order_clause(descending)} LIMIT %s OFFSET %s"
    )
    found: list[tuple[Any, ...]] = con.execute(sql, (key, exp_ids, limit, offset)).fetchall()
    return found


def _runs(con: Any, rows: list[tuple[Any, ...]]) -> list[Run]:
    """MLflow ``Run`` objects for the page's rows, as MLflow's SQL store builds them."""
    from mlflow.entities import Metric, Param, Run, RunData, RunInfo, RunTag

    ids = [row[0] for row in rows]
    if not ids:
        return []
    metrics: dict[str, list[Metric]] = defaultdict(list)
    params: dict[str, list[Param]] = defaultdict(list)
    tags: dict[str, list[RunTag]] = defaultdict(list)
    for run, key, value in con.execute(
        "SELECT run_uuid, key, value FROM params WHERE run_uuid = ANY(%s)", (ids,)
    ):
        params[run].append(Param(key, value))
    for run, key, value in con.execute(
        "SELECT run_uuid, key, value FROM tags WHERE run_uuid = ANY(%s)", (ids,)
    ):
        tags[run].append(RunTag(key, value))
    for run, key, value, stamp, step, is_nan in con.execute(
        "SELECT run_uuid, key, value, timestamp, step, is_nan FROM latest_metrics "
        "WHERE run_uuid = ANY(%s)",
        (ids,),
    ):
        metrics[run].append(Metric(key, math.nan if is_nan else value, stamp, step))
    inputs, outputs = _inputs(con, ids), _outputs(con, ids)
    runs = []
    for run_id, name, exp_id, user, status, start, end, stage, artifact_uri in rows:
        info = RunInfo(run_id, str(exp_id), user, status, start, end, stage, artifact_uri, name)
        if not name:  # as MLflow's SqlRun.to_mlflow_entity: the name from its tag
            name_tag = next((t.value for t in tags[run_id] if t.key == "mlflow.runName"), None)
            if name_tag:
                info._set_run_name(name_tag)
        data = RunData(metrics[run_id], params[run_id], tags[run_id])
        runs.append(Run(info, data, inputs[run_id], outputs[run_id]))
    return runs


def _inputs(con: Any, ids: list[str]) -> dict[str, Any]:
    """Each run's dataset inputs with their tags (MLflow's ``_get_run_inputs``)."""
    from mlflow.entities import Dataset, DatasetInput, InputTag, RunInputs

    found: dict[str, dict[str, DatasetInput]] = defaultdict(dict)
    sql = (
        "SELECT i.destination_id, d.dataset_uuid, d.name, d.digest, d.dataset_source_type, "
        "d.dataset_source, d.dataset_schema, d.dataset_profile, t.name, t.value "
        "FROM inputs i JOIN datasets d ON i.source_id = d.dataset_uuid "
        "LEFT JOIN input_tags t ON t.input_uuid = i.input_uuid "
        "WHERE i.destination_type = 'RUN' AND i.destination_id = ANY(%s) "
        "ORDER BY i.destination_id"
    )
    for run, uuid, name, digest, kind, source, schema, profile, tag, value in con.execute(
        sql, (ids,)
    ):
        dataset_input = found[run].get(uuid)
        if dataset_input is None:
            dataset = Dataset(name, digest, kind, source, schema, profile)
            dataset_input = found[run][uuid] = DatasetInput(dataset, [])
        if tag is not None:
            dataset_input.tags.append(InputTag(tag, value))
    return {run: RunInputs(list(found[run].values())) for run in ids}


def _outputs(con: Any, ids: list[str]) -> dict[str, Any]:
    """Each run's logged-model outputs (MLflow's ``_get_model_outputs_bulk``)."""
    from mlflow.entities import LoggedModelOutput, RunOutputs

    found: dict[str, list[LoggedModelOutput]] = defaultdict(list)
    for run, model_id, step in con.execute(
        "SELECT source_id, destination_id, step FROM inputs WHERE source_type = 'RUN_OUTPUT' "
        "AND destination_type = 'MODEL_OUTPUT' AND source_id = ANY(%s)",
        (ids,),
    ):
        found[run].append(LoggedModelOutput(model_id, step))
    return {run: RunOutputs(found[run]) for run in ids}
