"""Leases of runs written straight to MLflow, so that a killed process's run does not stay RUNNING.

A plain ``papermill --engine mlops`` run creates its run synchronously (no journal). While the
process lives it holds a lease: ``.mlops/leases/<run id>.lock``, flock-held (``locks.FileLock``),
so the kernel frees it however the process exits. Ending the run releases and removes the lease.
A lease that is free but still on disk belongs to a process that died (kill -9, OOM) with its run
open: recovery (``replay.recover``: sync, the sync agent) marks that run FAILED, as it marks the
open runs of a dead process's journal, and removes the lease.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from ..locks import FileLock
from ..tags import FAILURE_TAG
from ..workspace import Workspace

log = logging.getLogger("jupyter_mlops")

DIED = "the process recording this run died"


def _folder(ws: Workspace) -> Path:
    return ws.state_dir / "leases"


class RunLease:
    """Held by the process that writes run ``run_id`` to MLflow directly, until the run ends."""

    def __init__(self, ws: Workspace, run_id: str) -> None:
        self.path = _folder(ws) / f"{run_id}.lock"
        self._lock = FileLock(self.path)
        self._lock.acquire(blocking=False)

    def release(self) -> None:
        self.path.unlink(missing_ok=True)
        self._lock.release()


def end_abandoned_runs(ws: Workspace, client: Any) -> int:
    """Mark FAILED the open runs whose lease outlived its process; returns how many were ended.

    A lease without a holder record is one being taken right now (the holder is written just
    after the flock): it is left alone."""
    folder = _folder(ws)
    ended = 0
    for path in sorted(folder.glob("*.lock")) if folder.is_dir() else []:
        lock = FileLock(path)
        if not lock.holder() or not lock.acquire(blocking=False):
            continue  # its process is alive (or just taking it)
        try:
            ended += _end_if_running(client, path.stem)
            path.unlink(missing_ok=True)
        except Exception as exc:  # MLflow unreachable: the lease stays for the next recovery
            log.warning("jupyter-mlops: could not end the abandoned run %s: %s", path.stem, exc)
        finally:
            lock.release()
    return ended


def _end_if_running(client: Any, run_id: str) -> int:
    from mlflow.exceptions import MlflowException

    try:
        run = client.get_run(run_id)
    except MlflowException as exc:
        if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
            return 0  # deleted for good: nothing to end
        raise
    if run.info.status != "RUNNING":
        return 0
    client.set_tag(run_id, FAILURE_TAG, DIED)
    client.set_terminated(run_id, status="FAILED")
    return 1
