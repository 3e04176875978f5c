"""From a run's journal key to its MLflow run id, once the run has landed.

A run recorded while the tracking server was down is known locally only by its journal key
(``mlops.run_key``). Whoever kept that key (a build's cache entry) asks here later: a live
journal that already landed the run knows its id; otherwise the store is searched for the tag.
An unreachable store answers None at once (a probe, not MLflow's minutes of retries).
"""

from __future__ import annotations

import sqlite3

from ..errors import StoreUnavailable
from ..store.client import client_for
from ..store.reachability import ensure_reachable
from ..tags import RUN_KEY_TAG
from ..workspace import Workspace


def _from_journals(ws: Workspace, run_key: str) -> str | None:
    folder = ws.state_dir / "outbox"
    for db in sorted(folder.glob("*.db")) if folder.is_dir() else []:
        try:
            con = sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True, timeout=2)
            try:
                row = con.execute("SELECT run_id FROM runs WHERE run_key = ?", (run_key,))
                found = row.fetchone()
            finally:
                con.close()
        except sqlite3.Error:
            continue
        if found and found[0]:
            return str(found[0])
    return None


def landed_run_ids(ws: Workspace, run_keys: list[str]) -> dict[str, str]:
    """The run ids of those ``run_keys`` whose runs are in MLflow now (others left out)."""
    found = {k: rid for k in run_keys if (rid := _from_journals(ws, k))}
    missing = [k for k in run_keys if k not in found]
    if not missing:
        return found
    try:
        ensure_reachable(ws)
    except StoreUnavailable:
        return found
    client = client_for(ws)
    experiments = [e.experiment_id for e in client.search_experiments()]
    for key in missing:
        runs = client.search_runs(experiments, filter_string=f"tags.`{RUN_KEY_TAG}` = '{key}'")
        if runs:
            found[key] = runs[0].info.run_id
    return found
