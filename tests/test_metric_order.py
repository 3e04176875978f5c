"""``store/metric_order.py`` and the team reader's choice of database, without a server.

The ORDER BY clause is checked against MLflow's rule written out in Python (numbers first, then
NaN, then runs without the metric; ties newest first, then by run id) on a SQLite table of the
same shape as MLflow's, for any mix of values; the page tokens against MLflow's own."""

from __future__ import annotations

import math
import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jupyter_mlops.store.embedded_read import page_offset, page_token
from jupyter_mlops.store.gateway import Gateway
from jupyter_mlops.store.metric_order import _offset, order_clause, parse_metric_order
from jupyter_mlops.workspace import Workspace


@pytest.mark.parametrize(
    ("clauses", "parsed"),
    [
        (["metrics.acc DESC"], ("acc", True)),
        (["metrics.acc ASC"], ("acc", False)),
        (["metrics.acc"], ("acc", False)),
        (["  metrics.val-loss.v2 DESC "], ("val-loss.v2", True)),
        (["metrics.`odd key` DESC"], ("odd key", True)),
        (None, None),
        ([], None),
        (["metrics.acc DESC", "metrics.f1 DESC"], None),  # a second key: MLflow's path
        (["params.lr DESC"], None),
        (["attributes.start_time DESC"], None),
        (["metrics.acc desc"], None),  # MLflow's own grammar then answers (or refuses)
        (["metrics.acc; DROP TABLE runs"], None),
    ],
)
def test_parse_metric_order(clauses, parsed):
    assert parse_metric_order(clauses) == parsed


def test_page_tokens_are_mlflows():
    from mlflow.utils.search_utils import SearchUtils

    ours = page_token(300)
    assert SearchUtils.parse_start_offset_from_page_token(ours) == 300
    theirs = SearchUtils.create_page_token(200)
    assert page_offset(theirs.decode() if isinstance(theirs, bytes) else theirs) == 200
    assert _offset(ours) == 300 and _offset(None) == 0
    assert _offset("not a token") is None and page_offset("not a token") is None
    assert page_offset(page_token(0)) == 0


VALUES = (
    st.none()
    | st.just(math.nan)
    | st.sampled_from([math.inf, -math.inf, 0.0])
    | st.floats(-5, 5, allow_nan=False)
)
ROWS = st.lists(st.tuples(VALUES, st.integers(0, 4)), max_size=25)


def _mlflow_rule(rows: list[tuple[str, float | None, int]], descending: bool) -> list[str]:
    """MLflow's order for ``metrics.KEY``, written out (its SQL store's ``_get_orderby_clauses``:
    infinities stored as the largest finite floats, NaN as 0 with ``is_nan``)."""
    by_id_then_newest = sorted(rows, key=lambda r: r[0])
    by_id_then_newest.sort(key=lambda r: r[2], reverse=True)

    def klass(value: float | None) -> int:
        return 2 if value is None else 1 if math.isnan(value) else 0

    def stored(value: float | None) -> float:
        if value is None or math.isnan(value):
            return 0.0
        return max(min(value, 1.7976931348623157e308), -1.7976931348623157e308)

    ordered = sorted(by_id_then_newest, key=lambda r: stored(r[1]), reverse=descending)
    ordered.sort(key=lambda r: klass(r[1]))
    return [r[0] for r in ordered]


@settings(max_examples=80, deadline=None)
@given(ROWS, st.booleans())
def test_order_clause_is_mlflows_order(rows, descending):
    runs = [
        (f"{i:04x}{(i * 7919) % 97:02x}", value, start) for i, (value, start) in enumerate(rows)
    ]
    con = sqlite3.connect(":memory:")
    con.execute("CREATE TABLE runs (run_uuid TEXT, start_time INTEGER)")
    con.execute("CREATE TABLE latest_metrics (run_uuid TEXT, key TEXT, value REAL, is_nan BOOLEAN)")
    for run_id, value, start in runs:
        con.execute("INSERT INTO runs VALUES (?, ?)", (run_id, start))
        if value is not None:
            nan = math.isnan(value)
            stored = (
                0.0 if nan else max(min(value, 1.7976931348623157e308), -1.7976931348623157e308)
            )
            con.execute("INSERT INTO latest_metrics VALUES (?, 'acc', ?, ?)", (run_id, stored, nan))
        con.execute("INSERT INTO latest_metrics VALUES (?, 'other', 1.0, 0)", (run_id,))
    got = [
        row[0]
        for row in con.execute(
            "SELECT r.run_uuid FROM runs r LEFT JOIN latest_metrics m "
            f"ON m.run_uuid = r.run_uuid AND m.key = 'acc' {order_clause(descending)}"
        )
    ]
    assert got == _mlflow_rule(runs, descending)


@pytest.mark.parametrize(
    ("tracking_uri", "db_env", "expected"),
    [
        ("postgresql://u@h:5432/mlflow", None, "postgresql://u@h:5432/mlflow"),
        ("postgresql+psycopg://u@h/mlflow", None, "postgresql://u@h/mlflow"),
        ("http://tracking:5000", "postgresql://reader@db/mlflow", "postgresql://reader@db/mlflow"),
        ("http://tracking:5000", "postgresql+psycopg://reader@db/m", "postgresql://reader@db/m"),
        ("http://tracking:5000", None, None),  # a server alone: its REST API answers
        ("http://tracking:5000", "mysql://reader@db/mlflow", None),
        ("sqlite:///elsewhere.db", "postgresql://reader@db/mlflow", None),  # not for that store
    ],
)
def test_which_database_the_team_reader_may_read(
    tmp_path, monkeypatch, tracking_uri, db_env, expected
):
    (tmp_path / "mlops.yaml").write_text(f"project: p\ntracking_uri: {tracking_uri}\n")
    for var in ("MLFLOW_TRACKING_URI", "MLOPS_WORKSPACE", "MLOPS_TRACKING_DB_URI"):
        monkeypatch.delenv(var, raising=False)
    if db_env:
        monkeypatch.setenv("MLOPS_TRACKING_DB_URI", db_env)
    assert Gateway(Workspace.find(tmp_path)).tracking_db_uri() == expected
