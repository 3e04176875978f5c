"""Queries over runs: the one place the magics, CLI and REST handlers read runs from."""

from __future__ import annotations

import difflib
import re
from collections import Counter
from typing import TYPE_CHECKING, Any

from ..errors import InvalidInput, NotFound
from ..tags import KIND_TAG, RUN_KEY_TAG, TAG_PREFIX
from .embedded_read import list_runs
from .metric_order import page_by_metric, parse_metric_order
from .reachability import ensure_reachable
from .run_names import choose_run
from .tracking_db import runs_page as tracking_db_page

if TYPE_CHECKING:
    from collections.abc import Iterator

    from mlflow.entities import Run

    from .gateway import Gateway

INTERNAL_PREFIX = "mlops-"
_RUN_REF = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_ORDER = re.compile(
    r"^(metrics|params|attributes|tags)\.[`\w.\- ]+( (ASC|DESC))?$|^[\w.]+( (ASC|DESC))?$"
)


def _experiment_ids(gw: Gateway, experiment: str | None, *, internal: bool = False) -> list[str]:
    client = gw.client
    if experiment:
        exp_id = gw.experiment_id(experiment, create=False)
        if exp_id is None:
            raise NotFound(
                f"no experiment named {experiment!r}",
                hint="list them with `jupyter-mlops experiments`",
            )
        return [exp_id]
    # experiments named mlops-* hold bookkeeping runs (dataset versions...), not experiments
    return [
        e.experiment_id
        for e in client.search_experiments()
        if internal or not e.name.startswith(INTERNAL_PREFIX)
    ]


def search(
    gw: Gateway,
    *,
    experiment: str | None = None,
    filter_string: str = "",
    order_by: list[str] | None = None,
    limit: int = 50,
    page_token: str | None = None,
) -> tuple[list[Run], str | None]:
    """One page of runs, newest first unless ``order_by`` says otherwise."""
    if not 1 <= limit <= 1000:
        raise InvalidInput(f"limit must be between 1 and 1000, got {limit}")
    for clause in order_by or []:
        if not _ORDER.match(clause):
            raise InvalidInput(
                f"cannot sort by {clause!r}", hint="use e.g. 'metrics.accuracy DESC'"
            )
    ensure_reachable(gw.ws)
    from mlflow.exceptions import MlflowException

    gw.before_read()
    by_metric = None if filter_string else parse_metric_order(order_by)
    database = gw.tracking_db_uri()
    if database and not filter_string and (by_metric is not None or not order_by):
        direct = tracking_db_page(
            database, experiment=experiment, metric=by_metric, limit=limit, page_token_in=page_token
        )
        if direct is not None:
            if by_metric is not None and not page_token:
                _check_sort_metric(direct[0], by_metric[0])
            return direct
    client = gw.client
    exp_ids = _experiment_ids(gw, experiment)
    db = gw.embedded_db()
    if by_metric is not None and db is not None:
        fast = page_by_metric(db, client, exp_ids, *by_metric, limit, page_token)
        if fast is not None:
            if not page_token:
                _check_sort_metric(fast[0], by_metric[0])
            return fast
    try:
        page = client.search_runs(
            exp_ids,
            filter_string=filter_string,
            order_by=order_by or ["attributes.start_time DESC"],
            max_results=limit,
            page_token=page_token,
        )
    except MlflowException as exc:
        raise InvalidInput(f"bad run query: {exc.message}") from None
    if by_metric is not None and not page_token:
        _check_sort_metric(list(page), by_metric[0])
    return list(page), page.token


def _check_sort_metric(runs: list[Any], key: str) -> None:
    """Sorting by a metric no run has would sort by nothing: refuse it, with the closest key."""

    keys = {k for r in runs for k in r.data.metrics}
    if runs and key not in keys:
        close = difflib.get_close_matches(key, sorted(keys), n=1)
        raise InvalidInput(
            f"no run has a metric {key!r} to sort by"
            + (f"; did you mean {close[0]!r}?" if close else "")
        )


def get_run(gw: Gateway, ref: str) -> Run:
    """A run by MLflow id, by local run key, by a name only it has, or by unique id prefix (6+)."""
    if not isinstance(ref, str) or not _RUN_REF.match(ref):
        raise InvalidInput(
            f"{ref!r} is not a run id", hint="run ids are letters, digits, '-' and '_'"
        )
    ensure_reachable(gw.ws)
    from mlflow.exceptions import MlflowException

    gw.before_read()
    client = gw.client
    try:
        return client.get_run(ref)
    except MlflowException:
        pass
    exp_ids = _experiment_ids(gw, None, internal=True)
    by_key = client.search_runs(
        exp_ids, filter_string=f"tags.`{RUN_KEY_TAG}` = '{ref}'", max_results=1
    )
    if by_key:
        return by_key[0]
    by_name = client.search_runs(
        exp_ids, filter_string=f"attributes.run_name = '{ref}'", max_results=50
    )
    by_prefix: list[Run] = []
    if not by_name and all(c in "0123456789abcdef" for c in ref):  # run ids are lowercase hex
        for page in _iter_all(client, exp_ids):
            by_prefix += [r for r in page if r.info.run_id.startswith(ref)]
            if len(by_prefix) >= 20:
                break
    runs = {r.info.run_id: r for r in [*by_name, *by_prefix]}
    chosen = choose_run(
        ref, [], [r.info.run_id for r in by_name], [r.info.run_id for r in by_prefix]
    )
    return runs[chosen]


def _iter_all(client: Any, exp_ids: list[str]) -> Iterator[list[Run]]:
    token = None
    while True:
        page = client.search_runs(exp_ids, max_results=1000, page_token=token)
        yield page
        token = page.token
        if not token:
            return


def run_summary(run: Run) -> dict[str, Any]:
    """A JSON-able digest of a run for tables and REST answers."""
    info, data = run.info, run.data
    return {
        "run_id": info.run_id,
        "name": info.run_name,
        "experiment_id": info.experiment_id,
        "status": info.status,
        "start_time": info.start_time,
        "end_time": info.end_time,
        "kind": data.tags.get(KIND_TAG, ""),
        "params": dict(data.params),
        "metrics": dict(data.metrics),
        "tags": {k: v for k, v in data.tags.items() if not k.startswith("mlflow.")},
    }


def summaries(
    gw: Gateway, *, experiment: str | None = None, limit: int = 20, sort: str | None = None
) -> list[dict[str, Any]]:
    """Run summaries, newest first or best first by metric ``sort``: read straight from the
    embedded store's file when there is one (no MLflow import), else through MLflow."""
    gw.before_read()
    db = gw.embedded_db()
    found = list_runs(db, experiment=experiment, limit=limit, sort=sort) if db else None
    if found is not None:
        return found
    order = [f"metrics.`{sort}` DESC"] if sort else None
    runs, _ = search(gw, experiment=experiment, limit=limit, order_by=order)
    return [run_summary(r) for r in runs]


def recent_runs(
    gw: Gateway, limit: int = 20, experiment: str | None = None
) -> list[dict[str, Any]]:
    runs, _ = search(gw, experiment=experiment, limit=limit)
    return [run_summary(r) for r in runs]


def key_metrics(runs: list[dict[str, Any]], limit: int = 6) -> list[str]:
    """The metric columns worth showing for these runs: the most widely logged ones."""

    counts = Counter(k for r in runs for k in r["metrics"] if not k.startswith(TAG_PREFIX))
    # plain names (accuracy) before namespaced families (drift.ks.<feature>) logged in bulk
    ranked = sorted(counts.items(), key=lambda kv: ("." in kv[0], -kv[1], kv[0]))
    return [k for k, _ in ranked[:limit]]
