"""Tracking of a plain ``papermill --engine mlops`` run (outside ``jupyter-mlops build``).

The step run is journaled, as a kernel journals its cells: no MLflow import and no round trip in
the papermill process, which only appends records; the workspace's sync agent lands them. A
killed papermill's journal is replayed by the agent, which marks the run it left open FAILED,
as it does for a dead kernel. When the notebook has run, the engine waits for the records of the
run and of the notebook's kernel to land, so a script that reads MLflow after papermill returned
sees them; when they cannot land (the tracking server is down) it says so in one line and goes
on: they stay queued for the agent and ``jupyter-mlops sync``.

Everything recorded passes the run's redactor (``RunRecorder`` does it): papermill's parameters,
the tags, the error and the executed notebook.

Tracking must never change what papermill does: every failure to record is logged as a warning
and the notebook runs, fails and exits exactly as it would with the default engine.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..capture.tracker import redaction_notice
from ..journal.flusher import queue_reason
from ..journal.own_writes import land_own_records
from ..limits import ERROR_TEXT
from ..tags import EXECUTED_CELLS_TAG, NOTEBOOK_TAG, OUTPUT_NOTEBOOK_TAG, SOURCE_TAG, error_tag
from ..workspace import Workspace
from . import records
from .outcome import notebook_outcome
from .running_kernels import kernel_environment

log = logging.getLogger("jupyter_mlops.engine")

LAND_WAIT_S = 120.0  # longest the engine waits for its records at the end (MLflow answering)


@dataclass
class TrackedExecution:
    ws: Workspace | None = None
    run: records.RunHandle | None = None
    notebook: str | None = None

    @classmethod
    def start(cls, nb: Any, input_path: Any, output_path: Any) -> TrackedExecution:
        notebook = str(input_path) if isinstance(input_path, (str, os.PathLike)) else None
        try:
            ws = Workspace.find()
            params = dict(nb.metadata.get("papermill", {}).get("parameters", {}) or {})
            name = Path(notebook).stem if notebook else "notebook"
            tags = {SOURCE_TAG: "papermill", "mlflow.source.type": "NOTEBOOK"}
            if notebook:
                tags.update({NOTEBOOK_TAG: notebook, "mlflow.source.name": notebook})
            if output_path:
                tags[OUTPUT_NOTEBOOK_TAG] = str(output_path)
            # a parent from MLOPS_PARENT_RUN_ID / MLOPS_PARENT_KEY is taken by the recorder
            run = records.start_run(ws, name=name, kind="step", tags=tags, params=params)
            return cls(ws, run, notebook)
        except Exception as exc:  # tracking is best effort; papermill's behaviour is not
            log.warning("jupyter-mlops: run not tracked: %s", exc)
            return cls(None, None, notebook)

    def kernel_env(self) -> dict[str, str]:
        """The kernel's cells become children of the step run, named by its journal key (no
        wait for MLflow); the engine lands the kernel's records at the end."""
        if self.run is None or self.ws is None:
            return {}
        return kernel_environment(
            parent_key=self.run.key,
            notebook_path=self.notebook,
            workspace=str(self.ws.root),
            driver_lands_records="1",
        )

    def finish(
        self,
        nb: Any,
        started: float,
        *,
        interrupted: bool = False,
        crash: BaseException | None = None,
    ) -> None:
        if self.run is None or self.ws is None:
            return
        try:
            self._record(nb, started, interrupted, crash)
        except Exception as exc:
            log.warning("jupyter-mlops: run %s not fully recorded: %s", self.run.key[:8], exc)
        try:
            pending, error = land_own_records(self.ws, LAND_WAIT_S)
        except Exception as exc:
            pending, error = -1, str(exc)
        if pending:
            log.warning(
                "mlops: %s records are queued (%s); `jupyter-mlops sync` waits for them",
                "some" if pending < 0 else str(pending),
                queue_reason(self.ws, error),
            )

    def _record(
        self, nb: Any, started: float, interrupted: bool, crash: BaseException | None
    ) -> None:
        import nbformat

        assert self.run is not None  # finish() records started runs only
        outcome = notebook_outcome(nb)
        status = outcome.status
        error = outcome.error
        if interrupted:
            status = "KILLED"
        elif crash is not None:
            status = "FAILED"
            error = error or {"ename": type(crash).__name__, "evalue": str(crash)[:ERROR_TEXT]}
        tags: dict[str, Any] = {EXECUTED_CELLS_TAG: outcome.executed_cells}
        if error:
            tags.update({error_tag(k): v for k, v in error.items() if v is not None})
        # the notebook first: the secret values it hides are hidden in the tags too
        notebook = self.run.redact_notebook(nbformat.writes(nb))
        with tempfile.TemporaryDirectory() as tmp:
            name = Path(self.notebook).name if self.notebook else "notebook.ipynb"
            out = Path(tmp) / name
            out.write_text(notebook, encoding="utf-8")
            self.run.log_artifact(out, "notebook")  # staged beside the journal: tmp may go
        self.run.set_tags(tags)
        self.run.log_metrics({"duration_s": time.time() - started})
        self.run.log_text(json.dumps(outcome.cell_seconds), "mlops/cell_seconds.json")
        self.run.end(status)  # with the redaction's tags
        notice = redaction_notice(self.run.redaction)
        if notice:
            print(f"jupyter-mlops: {notice}", file=sys.stderr)
