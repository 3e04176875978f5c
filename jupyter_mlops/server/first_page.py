"""The panel's first answers without MLflow: runs newest first and experiments, read from SQLite.

Importing MLflow costs about 1.5-2.5 s; a panel opened right after the server starts would wait
that long for its first page. On the embedded store, an unfiltered newest-first page of runs and
the experiment list are plain reads of MLflow's own tables (``store/embedded_read.py``, the
reader the CLI uses too), answered in milliseconds over a read-only connection.
Anything else (a filter, a sort, another store) returns None and takes MLflow's path. Meanwhile
``warm_up`` imports MLflow in a background thread, so the next query that needs it does not wait.

The answers have exactly the shape of ``store.runs.run_summary`` (checked against MLflow's own
answer in tests/test_server_first_page.py); page tokens are MLflow's (base64 JSON offset), so a
page started here continues through MLflow and back.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar, cast

from tornado.ioloop import IOLoop

from ..store import embedded_read
from ..store.embedded_read import INTERNAL_PREFIX
from ..store.gateway import Gateway
from . import contract

T = TypeVar("T")


def experiments(gw: Gateway) -> list[contract.Experiment] | None:
    """The active experiments, as ``queries.experiments`` lists them; None: ask MLflow."""
    db = gw.embedded_db()
    rows = embedded_read.experiments(db) if db is not None else None
    if rows is None:
        return None
    out: list[contract.Experiment] = [
        {
            "experiment_id": exp_id,
            "name": name,
            "internal": name.startswith(INTERNAL_PREFIX),
            "default": name == gw.ws.default_experiment,
        }
        for exp_id, name in rows
    ]
    return sorted(out, key=lambda r: (r["internal"], r["name"].lower()))


def runs_page(
    gw: Gateway,
    *,
    experiment: str | None,
    limit: int,
    page_token_in: str | None,
    order_by: list[str],
    filter_string: str,
) -> contract.RunsPage | None:
    """One newest-first page of runs, or None when MLflow must answer (filter, sort, store)."""
    offset = embedded_read.page_offset(page_token_in)
    db = gw.embedded_db()
    if filter_string.strip() or order_by or offset is None or db is None:
        return None
    page = embedded_read.runs_page(db, experiment=experiment, limit=limit, offset=offset)
    return cast("contract.RunsPage | None", page)


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


def warm_up(gw: Gateway) -> threading.Thread:
    """Import MLflow and open the store's client in a daemon thread, off the request path."""

    def work() -> None:
        try:
            if not gw.ws.is_embedded or (gw.ws.state_dir / "mlflow.db").is_file():
                gw.client  # noqa: B018 -- opening the client is the point
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


def warm_up_when_serving(gw: Gateway) -> None:
    """Start ``warm_up`` once the server's event loop runs (never in a process that only loads
    the extension, such as a test or a benchmark importing it)."""

    IOLoop.current().add_callback(warm_up, gw)
