"""Tracking of a plain ``papermill --engine mlops`` run (outside ``jupyter-mlops build``).

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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..capture.tracker import (
    OWN_VALUE_TAGS,
    redaction_for,
    redaction_notice,
    redaction_tags,
    tag_name,
)
from ..limits import ERROR_TEXT
from ..redact import RunRedaction, default_redactor
from ..store.gateway import gateway_for
from ..tags import (
    EXECUTED_CELLS_TAG,
    NOTEBOOK_TAG,
    OUTPUT_NOTEBOOK_TAG,
    SOURCE_TAG,
    error_tag,
)
from ..workspace import Workspace
from . import records
from .outcome import notebook_outcome
from .running_kernels import kernel_environment

log = logging.getLogger("jupyter_mlops.engine")


@dataclass
class TrackedExecution:
    ws: Any = None
    run_id: str | None = None
    notebook: str | None = None
    # everything recorded passes it: papermill's parameters, tags, the error, the notebook
    redaction: RunRedaction = field(default_factory=lambda: RunRedaction(default_redactor()))

    @classmethod
    def start(cls, nb: Any, input_path: Any, output_path: Any) -> TrackedExecution:
        notebook = str(input_path) if isinstance(input_path, (str, os.PathLike)) else None
        try:
            ws = Workspace.find()
            redaction = redaction_for(ws)
            params = dict(nb.metadata.get("papermill", {}).get("parameters", {}) or {})
            params = redaction.mapping(params)
            name = Path(notebook).stem if notebook else "notebook"
            tags = {SOURCE_TAG: "papermill", "mlflow.source.type": "NOTEBOOK"}
            if notebook:
                tags.update({NOTEBOOK_TAG: notebook, "mlflow.source.name": notebook})
            if output_path:
                tags[OUTPUT_NOTEBOOK_TAG] = str(output_path)
            run_id = records.direct_start_run(
                gateway_for(ws),
                name=name,
                kind="step",
                parent_run_id=ws.settings.parent_run_id,
                tags=redaction.mapping(tags, name_of=tag_name, keep=OWN_VALUE_TAGS),
                params=params,
            )
            return cls(ws, run_id, notebook, redaction)
        except Exception as exc:  # tracking is best effort; papermill's behaviour is not
            log.warning("jupyter-mlops: run not tracked: %s", exc)
            return cls(None, None, notebook)

    def kernel_env(self) -> dict[str, str]:
        if not self.run_id or self.ws is None:
            return {}
        return kernel_environment(
            parent_run_id=self.run_id,
            notebook_path=self.notebook,
            workspace=str(self.ws.root),
        )

    def finish(
        self,
        nb: Any,
        started: float,
        *,
        interrupted: bool = False,
        crash: BaseException | None = None,
    ) -> None:
        if not self.run_id:
            return
        try:
            self._record(nb, started, interrupted, crash)
        except Exception as exc:
            log.warning("jupyter-mlops: run %s not fully recorded: %s", self.run_id, exc)

    def _record(
        self, nb: Any, started: float, interrupted: bool, crash: BaseException | None
    ) -> None:
        import nbformat

        assert self.run_id is not None  # finish() records started runs only
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
        red = self.redaction
        notebook = red.json_text(
            nbformat.writes(nb)
        )  # first: its values are hidden in the tags too
        tags = red.mapping(tags, name_of=tag_name, keep=OWN_VALUE_TAGS)
        tags.update(redaction_tags(red))
        with tempfile.TemporaryDirectory() as tmp:
            name = Path(self.notebook).name if self.notebook else "notebook.ipynb"
            out = Path(tmp) / name
            out.write_text(notebook, encoding="utf-8")
            records.direct_finish_run(
                gateway_for(self.ws),
                self.run_id,
                status=status,
                metrics={"duration_s": time.time() - started},
                tags=tags,
                texts={"mlops/cell_seconds.json": json.dumps(outcome.cell_seconds)},
                artifact=out,
            )
        notice = redaction_notice(red)
        if notice:
            print(f"jupyter-mlops: {notice}", file=sys.stderr)
