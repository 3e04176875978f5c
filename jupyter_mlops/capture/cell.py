"""What a tracked cell records, around whatever runs the cell (a magic, a hook, a test).

``CellCapture.begin`` journals the run and notes the namespace; ``finish`` adds what the cell
produced: literal params, requested metrics, fitted estimators, datasets it read, its code and
the kernel's execution history. No IPython here: the magic passes plain values in.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..datasets import cell_inputs
from ..errors import InvalidInput
from ..limits import LIST_TEXT
from ..settings import environment_settings
from ..tags import (
    CELL_DURATION_METRIC,
    CELL_HASH_TAG,
    EXECUTION_COUNT_TAG,
    HIDDEN_STATE_TAG,
    PARAM_SOURCES_TAG,
    WARNINGS_TAG,
)
from ..workspace import Workspace
from . import estimators, record_checks
from .hidden_state import hidden_state_warnings
from .params import literal_assignments, sources_text, values_read
from .tracker import RunRecorder, active_run, pop_active, push_active, redaction_notice

MAX_HISTORY = 500

# a short id of this kernel: default names (cell-3-a1b2) do not repeat after every restart
KERNEL_TAG = uuid.uuid4().hex[:4]


def default_run_name(execution_count: int | None) -> str | None:
    return f"cell-{execution_count}-{KERNEL_TAG}" if execution_count else None


def cell_hash(source: str) -> str:
    return hashlib.sha256(source.encode()).hexdigest()[:16]


_notebook_cache: dict[str, tuple[int, dict[str, Any] | None]] = {}


def _notebook_cells() -> dict[str, Any] | None:
    """The saved notebook's code cells, re-read only when the file changed (it may hold MBs of
    outputs, and every tracked cell asks)."""
    path = environment_settings().notebook_path or os.environ.get("JPY_SESSION_NAME")
    if not path or not path.endswith(".ipynb"):
        return None
    try:
        mtime = os.stat(path).st_mtime_ns
    except OSError:
        return None
    cached = _notebook_cache.get(path)
    if cached is not None and cached[0] == mtime:
        return cached[1]
    try:
        nb = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    cells = [
        {
            "index": i,
            "execution_count": c.get("execution_count"),
            "source": "".join(c.get("source", "")),
        }
        for i, c in enumerate(nb.get("cells", []))
        if c.get("cell_type") == "code"
    ]
    result = {"path": path, "cells": cells}
    _notebook_cache.clear()
    _notebook_cache[path] = (mtime, result)
    return result


@dataclass
class CellCapture:
    ws: Workspace
    source: str
    user_ns: dict[str, Any]
    execution_count: int | None = None
    history: list[tuple[int, str]] = field(default_factory=list)
    name: str | None = None
    experiment: str | None = None
    param_names: list[str] = field(default_factory=list)
    metric_names: list[str] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    kind: str = "cell"
    warnings: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    param_sources: dict[str, str] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)  # about earlier cells: printed, not tagged
    _hidden_state: list[str] = field(default_factory=list, repr=False)

    def begin(self) -> RunRecorder:
        self._before = estimators.snapshot(self.user_ns)
        try:  # values the cell reads from earlier cells, as they are before it runs
            self._read = values_read(self.source, self.user_ns, self.history, self.execution_count)
        except Exception as exc:  # never worth the cell's tracking
            self._read = {}
            self._warn(f"params read from earlier cells: {type(exc).__name__}: {exc}")
        tags = {
            CELL_HASH_TAG: cell_hash(self.source),
            **self.tags,
        }
        if self.execution_count is not None:
            tags[EXECUTION_COUNT_TAG] = str(self.execution_count)
        parent = active_run()
        run = RunRecorder(
            self.ws,
            name=self.name or default_run_name(self.execution_count),
            experiment=self.experiment or (parent.experiment if parent else None),
            tags=tags,
            kind=self.kind,
            parent_key=parent.key if parent else None,
        )
        with run.batch():
            run.start()
            run.log_text(run.redaction.source(self.source), "mlops/cell.py", redacted=True)
        self.run = run
        push_active(run)
        self._t0 = time.perf_counter()  # from here on, only the user's code runs
        return run

    def finish(self, error: BaseException | None = None) -> None:
        """Record what the cell produced, then close the run.

        A problem of tracking itself (a misspelled ``--metrics`` name, a value that is not a
        number, a capture step that raised) never fails the cell: it becomes a warning, printed by
        the front end and kept in the run's ``mlops.warnings`` tag; the run keeps what exists.
        """
        duration = time.perf_counter() - getattr(self, "_t0", time.perf_counter())
        run = self.run
        pop_active(run)
        self._guarded(self._take_model_notices)
        try:
            with run.batch():
                self._record_outputs(error, duration)
        except Exception as exc:  # the journal itself failed: say so, keep the cell's result
            self.warnings.append(f"tracking could not record this cell's outputs: {exc}")
        if isinstance(error, KeyboardInterrupt):
            run.end("KILLED", error)
        elif error is not None:
            run.end("FAILED", error)
        else:
            run.end("FINISHED")

    def _record_outputs(self, error: BaseException | None, duration: float) -> None:
        run = self.run
        params = literal_assignments(self.source)
        for name in self.param_names:
            if name not in self.user_ns:
                self._warn(f"--params: {name!r} is not defined after the cell{self._near(name)}")
            else:
                params[name] = self.user_ns[name]
        sources = {k: "--params" if k in self.param_names else "this cell" for k in params}
        for key, (value, where) in getattr(self, "_read", {}).items():
            if key not in params:
                params[key], sources[key] = value, where
        logged = run.params
        params = {k: v for k, v in params.items() if k not in logged}
        for key, value in params.items():  # one by one: a bad param must not drop the others
            self._guarded(run.log_params, {key: value})
        self.param_sources = sources
        metrics = {CELL_DURATION_METRIC: duration}
        for name in self.metric_names:
            if name not in self.user_ns:
                self._warn(f"--metrics: {name!r} is not defined after the cell{self._near(name)}")
                continue
            try:
                metrics[name] = record_checks.metric_value(name, self.user_ns[name])
            except InvalidInput as exc:
                self._warn(f"--metrics: {exc}")
        run.log_metrics(metrics)
        if error is None:
            self._guarded(self._log_models, what="model capture failed")
            self._guarded(self._log_datasets, what="dataset capture failed")
        self._guarded(self._log_code, what="code capture failed")
        if self.param_sources:
            self._guarded(run.set_tags, {PARAM_SOURCES_TAG: sources_text(self.param_sources)})
        if self.warnings:
            self._guarded(run.set_tags, {WARNINGS_TAG: " | ".join(self.warnings)[:LIST_TEXT]})
        if self._hidden_state:
            joined = " | ".join(self._hidden_state)[:LIST_TEXT]
            self._guarded(run.set_tags, {HIDDEN_STATE_TAG: joined})
            self.warnings += self._hidden_state

    def redaction_notice(self) -> str:
        """The one line saying what the redactor did in this run ('' when it hid nothing)."""
        run = getattr(self, "run", None)
        return redaction_notice(run.redaction) if run is not None else ""

    def _warn(self, message: str) -> None:
        self.warnings.append(message)

    def _near(self, name: str) -> str:
        names = [n for n in self.user_ns if not n.startswith("_") and isinstance(n, str)]
        close = difflib.get_close_matches(name, names, n=1, cutoff=0.75)
        return f"; did you mean {close[0]!r}?" if close else ""

    def _guarded(self, step: Any, *args: Any, what: str = "") -> None:
        """Run one capture step; whatever it raises becomes a warning on the run."""
        try:
            step(*args)
        except Exception as exc:
            detail = (
                exc.message if isinstance(exc, InvalidInput) else f"{type(exc).__name__}: {exc}"
            )
            self._warn(f"{what}: {detail}" if what else detail)

    def _take_model_notices(self) -> None:
        """Earlier cells' models whose pyfunc check (done since, by the sync agent) failed."""
        self.notices += self.run.model_notices()

    def _log_models(self) -> None:
        self.models += estimators.log_fitted_models(
            self.run,
            self._before,
            self.user_ns,
            self.source,
            warnings=self.warnings,
            param_sources=self.param_sources,
        )

    def _log_datasets(self) -> None:
        found = cell_inputs.frames_read_by(self.source, self.user_ns)
        if found:
            self.run.log_inputs([cell_inputs.describe(obj, name, None) for name, obj in found])

    def _log_code(self) -> None:
        history = self.history[-MAX_HISTORY:]
        clean = self.run.redaction.source  # every entry passes the redactor, once per kernel
        self.run.log_text(
            json.dumps([{"execution_count": n, "source": clean(s)} for n, s in history]),
            "mlops/history.json",
            redacted=True,
        )
        notebook = _notebook_cells()
        if notebook is not None:
            redacted = [{**c, "source": clean(c["source"])} for c in notebook["cells"]]
            self.run.log_text(
                json.dumps({**notebook, "cells": redacted}), "mlops/notebook.json", redacted=True
            )

        sources = [c["source"] for c in notebook["cells"]] if notebook else None
        self._hidden_state = hidden_state_warnings(history, self.source, sources)
