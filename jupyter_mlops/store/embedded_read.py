"""Plain reads of the embedded store, straight from its SQLite file, without importing MLflow.

``import mlflow`` alone costs well over a second, and a CLI ``runs`` or ``show`` answered through
it took about 4 s. These reads only list what is there, so they query MLflow's own tables (the
schema ``store/metric_order.py`` reads too) read-only and answer in milliseconds. The result has
the same shape as ``runs.run_summary`` / ``run_details.run_detail``. The gateway says when there
is such a file to read (``Gateway.embedded_db``); a schema these queries do not know returns None
and the caller takes MLflow's path.
"""

from __future__ import annotations

import base64
import difflib
import json
import math
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from ..errors import InvalidInput, NotFound
from ..tags import KIND_TAG, MODEL_PREFIX, RUN_KEY_TAG, TAG_PREFIX
from .metric_order import order_clause
from .run_names import choose_run

INTERNAL_PREFIX = "mlops-"
_RUN_COLUMNS = "run_uuid, name, experiment_id, status, start_time, end_time, artifact_uri"


def _connect(db: Path) -> sqlite3.Connection | None:
    try:
        return sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    except sqlite3.Error:
        return None


def _experiment_ids(con: sqlite3.Connection, experiment: str | None) -> list[int]:
    if experiment:
        row = con.execute(
            "SELECT experiment_id FROM experiments WHERE name = ? AND lifecycle_stage = 'active'",
            (experiment,),
        ).fetchone()
        if row is None:
            raise NotFound(
                f"no experiment named {experiment!r}",
                hint="list them with `jupyter-mlops experiments`",
            )
        return [row[0]]
    return [
        r[0]
        for r in con.execute(
            "SELECT experiment_id, name FROM experiments WHERE lifecycle_stage = 'active'"
        )
        if not r[1].startswith(INTERNAL_PREFIX)
    ]


def _marks(values: list[Any]) -> str:
    return ",".join("?" * len(values))


def _check_sort_metric(con: sqlite3.Connection, exp_ids: list[int], key: str) -> None:
    sql = (
        "SELECT DISTINCT m.key FROM latest_metrics m JOIN runs r ON r.run_uuid = m.run_uuid "
        f"WHERE r.experiment_id IN ({_marks(exp_ids)}) AND r.lifecycle_stage = 'active'"
    )
    keys = [row[0] for row in con.execute(sql, exp_ids)]
    if keys and key not in keys:
        close = difflib.get_close_matches(key, keys, n=1)
        raise InvalidInput(
            f"no run has a metric {key!r} to sort by"
            + (f"; did you mean {close[0]!r}?" if close else ""),
            hint=f"metrics here: {', '.join(sorted(k for k in keys if not k.startswith(TAG_PREFIX))[:10])}",
        )


def list_runs(
    db: Path, *, experiment: str | None = None, limit: int = 20, sort: str | None = None
) -> list[dict[str, Any]] | None:
    """Summaries of the newest runs (or the best by metric ``sort``); None: ask MLflow."""
    if not 1 <= limit <= 1000:
        raise InvalidInput(f"limit must be between 1 and 1000, got {limit}")
    con = _connect(db)
    if con is None:
        return None
    with closing(con):
        try:
            exp_ids = _experiment_ids(con, experiment)
            if not exp_ids:
                return []
            where = f"r.experiment_id IN ({_marks(exp_ids)}) AND r.lifecycle_stage = 'active'"
            cols = ", ".join(f"r.{c.strip()}" for c in _RUN_COLUMNS.split(","))
            if sort:
                _check_sort_metric(con, exp_ids, sort)
                sql = (
                    f"SELECT {cols} FROM runs r LEFT JOIN latest_metrics m "
                    f"ON m.run_uuid = r.run_uuid AND m.key = ? WHERE {where} "
                    f"{order_clause(descending=True)} LIMIT ?"
                )
                rows = con.execute(sql, [sort, *exp_ids, limit]).fetchall()
            else:
                rows = _newest_rows(con, exp_ids, limit, 0)
            found = _summaries(con, rows)
        except sqlite3.Error:
            return None  # a schema these queries do not know: MLflow's path answers
    for summary in found:
        summary.pop("artifact_uri")
    return found


def _newest_rows(
    con: sqlite3.Connection, exp_ids: list[int], limit: int, offset: int
) -> list[tuple[Any, ...]]:
    """Run rows of the experiments, newest first (MLflow's order, ties by id)."""
    return con.execute(
        f"SELECT {_RUN_COLUMNS} FROM runs WHERE experiment_id IN ({_marks(exp_ids)}) "
        "AND lifecycle_stage = 'active' ORDER BY start_time DESC, run_uuid LIMIT ? OFFSET ?",
        [*exp_ids, limit, offset],
    ).fetchall()


def page_token(offset: int) -> str:
    """MLflow's SQL store token for ``offset`` (SearchUtils.create_page_token), so a page read
    here continues through MLflow and back."""
    return base64.b64encode(json.dumps({"offset": offset}).encode("utf-8")).decode("ascii")


def page_offset(token: str | None) -> int | None:
    """The offset in one of MLflow's page tokens (0 for none); None for a token not ours."""
    if not token:
        return 0
    try:
        offset = json.loads(base64.b64decode(token))["offset"]
    except (ValueError, KeyError, TypeError):
        return None
    return offset if isinstance(offset, int) and offset >= 0 else None


def runs_page(
    db: Path, *, experiment: str | None, limit: int, offset: int
) -> dict[str, Any] | None:
    """One newest-first page of runs with MLflow's page token; None: ask MLflow."""
    con = _connect(db)
    if con is None:
        return None
    with closing(con):
        try:
            exp_ids = _experiment_ids(con, experiment)
            if not exp_ids:
                return {"runs": [], "next_page_token": None}
            rows = _newest_rows(con, exp_ids, limit + 1, offset)  # one more: is there a next page?
            runs = _summaries(con, rows[:limit])
        except sqlite3.Error:
            return None  # a schema MLflow changed, a locked file: MLflow answers instead
    for summary in runs:
        summary.pop("artifact_uri")
    more = len(rows) > limit
    return {"runs": runs, "next_page_token": page_token(offset + limit) if more else None}


def experiments(db: Path) -> list[tuple[str, str]] | None:
    """(id, name) of the active experiments; None: ask MLflow."""
    con = _connect(db)
    if con is None:
        return None
    with closing(con):
        try:
            rows = con.execute(
                "SELECT experiment_id, name FROM experiments WHERE lifecycle_stage = 'active'"
            ).fetchall()
        except sqlite3.Error:
            return None
    return [(str(exp_id), name) for exp_id, name in rows]


def _summaries(con: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    ids = [r[0] for r in rows]
    if not ids:
        return []
    params: dict[str, dict[str, str]] = {i: {} for i in ids}
    metrics: dict[str, dict[str, float]] = {i: {} for i in ids}
    tags: dict[str, dict[str, str]] = {i: {} for i in ids}
    marks = _marks(ids)
    for run, key, value in con.execute(
        f"SELECT run_uuid, key, value FROM params WHERE run_uuid IN ({marks})", ids
    ):
        params[run][key] = value
    for run, key, value, is_nan in con.execute(
        f"SELECT run_uuid, key, value, is_nan FROM latest_metrics WHERE run_uuid IN ({marks})", ids
    ):
        metrics[run][key] = math.nan if is_nan else float(value)
    for run, key, value in con.execute(
        f"SELECT run_uuid, key, value FROM tags WHERE run_uuid IN ({marks})", ids
    ):
        tags[run][key] = value
    return [
        {
            "run_id": run,
            "name": name,
            "experiment_id": str(exp),
            "status": status,
            "start_time": start,
            "end_time": end,
            "kind": tags[run].get(KIND_TAG, ""),
            "params": params[run],
            "metrics": metrics[run],
            "tags": {k: v for k, v in tags[run].items() if not k.startswith("mlflow.")},
            "artifact_uri": artifact_uri,
        }
        for run, name, exp, status, start, end, artifact_uri in rows
    ]


def resolve_run_id(con: sqlite3.Connection, ref: str) -> str:
    """The run ``ref`` names: an id, a run key, a unique name or a unique id prefix (6+)."""
    active = "lifecycle_stage = 'active'"
    if con.execute(f"SELECT 1 FROM runs WHERE run_uuid = ? AND {active}", (ref,)).fetchone():
        return ref
    by_key = con.execute(
        "SELECT run_uuid, start_time FROM runs WHERE run_uuid IN "
        f"(SELECT run_uuid FROM tags WHERE key = '{RUN_KEY_TAG}' AND value = ?) AND {active}",
        (ref,),
    ).fetchall()
    by_name = con.execute(
        f"SELECT run_uuid, start_time FROM runs WHERE name = ? AND {active} ORDER BY start_time DESC",
        (ref,),
    ).fetchall()
    by_prefix = con.execute(
        f"SELECT run_uuid, start_time FROM runs WHERE run_uuid LIKE ? AND {active} LIMIT 20",
        (ref.replace("%", "").replace("_", "") + "%",),
    ).fetchall()
    return choose_run(
        ref, [r[0] for r in by_key], [r[0] for r in by_name], [r[0] for r in by_prefix]
    )


def run_detail(db: Path, ref: str, *, with_history: bool = True) -> dict[str, Any] | None:
    """A run in full (the shape of ``run_details.run_detail``); None: ask MLflow."""
    con = _connect(db)
    if con is None:
        return None
    with closing(con):
        try:
            run_id = resolve_run_id(con, ref)
            row = con.execute(f"SELECT {_RUN_COLUMNS} FROM runs WHERE run_uuid = ?", (run_id,))
            (detail,) = _summaries(con, row.fetchall())
            detail["curves"] = _curves(con, run_id) if with_history else {}
            detail["models"] = _models(con, run_id, detail["tags"])
            detail["datasets"] = _datasets(con, run_id)
        except sqlite3.Error:
            return None
    root = detail.pop("artifact_uri")
    env = local_artifact_text(root, "mlops/environment.json")
    try:
        detail["environment"] = json.loads(env) if env else None
    except ValueError:
        detail["environment"] = None
    detail["cell_source"] = local_artifact_text(root, "mlops/cell.py")
    return detail


def _curves(con: sqlite3.Connection, run_id: str) -> dict[str, list[tuple[int, float]]]:
    curves: dict[str, list[tuple[int, float]]] = {}
    for key, step, value, is_nan in con.execute(
        "SELECT key, step, value, is_nan FROM metrics WHERE run_uuid = ? "
        "ORDER BY key, step, timestamp",
        (run_id,),
    ):
        curves.setdefault(key, []).append((step, math.nan if is_nan else float(value)))
    return {k: v for k, v in curves.items() if len(v) > 1}


def _models(con: sqlite3.Connection, run_id: str, tags: dict[str, str]) -> list[dict[str, str]]:
    ids = [
        r[0]
        for r in con.execute(
            "SELECT destination_id FROM inputs WHERE source_type = 'RUN_OUTPUT' AND source_id = ? "
            "AND destination_type = 'MODEL_OUTPUT'",
            (run_id,),
        )
    ]
    return [
        {"model_id": i, "uri": f"models:/{i}", "name": k.removeprefix(MODEL_PREFIX)}
        for i in ids
        for k, v in tags.items()
        if k.startswith(MODEL_PREFIX) and v == f"models:/{i}"
    ]


def _datasets(con: sqlite3.Connection, run_id: str) -> list[dict[str, Any]]:
    sql = (
        "SELECT d.name, d.digest, (SELECT t.value FROM input_tags t WHERE t.input_uuid = i.input_uuid "
        "AND t.name = 'mlflow.data.context') FROM inputs i JOIN datasets d "
        "ON d.dataset_uuid = i.source_id WHERE i.source_type = 'DATASET' "
        "AND i.destination_type = 'RUN' AND i.destination_id = ?"
    )
    return [
        {"name": name, "digest": digest, "context": context}
        for name, digest, context in con.execute(sql, (run_id,))
    ]


def local_artifact_text(root: str | None, path: str) -> str | None:
    """A text artifact read in place under a local artifact root (None for a remote root, a path
    that leaves the root, or a file that is not there)."""
    parsed = urlparse(root or "")
    if parsed.scheme not in ("", "file"):
        return None
    base = Path(unquote(parsed.path)).resolve()
    target = (base / path).resolve()
    if base not in target.parents:
        return None
    try:
        return target.read_text(encoding="utf-8")
    except OSError:
        return None
