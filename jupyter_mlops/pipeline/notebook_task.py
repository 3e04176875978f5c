"""One notebook execution, as a plain function: the unit a local thread or a Dask worker runs.

It takes a picklable ``NotebookTask`` and returns a picklable ``NotebookResult`` (with the executed
notebook's JSON), so the build process, not the worker, records the run and writes files: a
worker on another machine only needs the project folder and the kernel.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..limits import ERROR_TEXT
from ..settings import child_environment
from ..workspace import Workspace
from .engine import register_engine
from .outcome import notebook_outcome
from .running_kernels import signal_kernel

BLAS_PINS = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "VECLIB_MAXIMUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
}


@dataclass
class NotebookTask:
    task_id: str
    label: str
    notebook: str  # absolute path
    cwd: str
    parameters: dict[str, Any]
    output_path: str  # where papermill writes the executed notebook as it goes
    env: dict[str, str] = field(default_factory=dict)
    kernel: str | None = None
    timeout: float | None = None
    retries: int = 0
    pin_threads: bool = True
    # more kernel variables, asked for once the kernel has started (the run id, whose creation
    # then overlaps the kernel's start) and set before the first cell; threads only: Dask
    # resolves it before sending the task
    env_hook: Callable[[], dict[str, str]] | None = None


@dataclass
class NotebookResult:
    task_id: str
    status: str  # FINISHED | FAILED | KILLED
    duration: float
    error: dict[str, Any] | None = None
    cell_seconds: list[float | None] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    notebook_json: str | None = None
    attempts: int = 1


def running_dir(ws: Workspace) -> Path:
    """Where papermill writes a running step's notebook as it goes (in place, not atomically): a
    file here is in progress. A build reads it once the step ends and removes it; the next build
    removes what a killed one left."""
    return ws.subdir("tmp/running")


def read_step_metrics(path: Path) -> tuple[dict[str, float], list[dict[str, Any]]]:
    """(last value of each metric, every reported value) from a step's metrics file."""
    latest: dict[str, float] = {}
    history: list[dict[str, Any]] = []
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return latest, history
    for line in lines:
        try:
            item = json.loads(line)
            latest[str(item["key"])] = float(item["value"])
            history.append(item)
        except (ValueError, KeyError, TypeError):
            continue  # a line cut short by a killed kernel
    return latest, history


def _kernel_env(task: NotebookTask, metrics_file: Path) -> dict[str, str]:
    """The task's kernel variables, BLAS pinned to one thread, and where step metrics go."""
    env = dict(task.env)
    if task.pin_threads:
        for name, value in BLAS_PINS.items():
            env.setdefault(name, os.environ.get(name, value))
    env.update(child_environment(step_metrics_file=metrics_file))
    return env


@contextmanager
def _kill_on_timeout(task: NotebookTask) -> Iterator[threading.Event]:
    """Kill the task's kernel once its timeout passes; the event says whether it did."""
    timed_out = threading.Event()

    def on_timeout() -> None:
        timed_out.set()
        signal_kernel(task.task_id, signal.SIGKILL)

    timer = threading.Timer(task.timeout, on_timeout) if task.timeout else None
    if timer:
        timer.daemon = True
        timer.start()
    try:
        yield timed_out
    finally:
        if timer:
            timer.cancel()


def _run_papermill(task: NotebookTask, env: dict[str, str]) -> dict[str, Any] | None:
    """Execute the notebook through the ``mlops`` engine; the error, or None when it passed."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    try:
        papermill.execute_notebook(
            task.notebook,
            task.output_path,
            parameters=task.parameters,
            engine_name="mlops",
            kernel_name=task.kernel,
            progress_bar=False,
            cwd=task.cwd,
            execution_timeout=task.timeout,
            kernel_env=env,
            kernel_env_late=task.env_hook,
            task_id=task.task_id,
            mlops_track=False,
        )
    except PapermillExecutionError as exc:
        return {
            "cell_index": exc.cell_index,
            "exec_count": exc.exec_count,
            "ename": exc.ename,
            "evalue": str(exc.evalue)[:ERROR_TEXT],
        }
    except Exception as exc:  # dead kernel, timeout, missing kernel
        return {"ename": type(exc).__name__, "evalue": str(exc)[:ERROR_TEXT]}
    return None


def _read_executed(
    output_path: str, error: dict[str, Any] | None
) -> tuple[str | None, list[float | None], dict[str, Any] | None]:
    """(executed notebook JSON, seconds per cell, the error with the cell it happened in)."""
    text = None
    cells: list[float | None] = []
    try:
        text = Path(output_path).read_text(encoding="utf-8")
        nb = json.loads(text)
        outcome = notebook_outcome(nb)
        cells = outcome.cell_seconds
        if error and "cell_index" not in error and outcome.error:
            error = {**outcome.error, "ename": error["ename"], "evalue": error["evalue"]}
        if error and "cell_index" not in error:
            # a crash mid-cell (dead kernel, timeout): the last cell papermill started
            started_cells = [
                i
                for i, c in enumerate(nb.get("cells", []))
                if c.get("metadata", {}).get("papermill", {}).get("start_time")
            ]
            if started_cells:
                error["cell_index"] = started_cells[-1]
    except (OSError, ValueError):
        pass
    return text, cells, error


def _execute_once(task: NotebookTask, stop: threading.Event) -> NotebookResult:
    register_engine()
    metrics_file = Path(task.output_path + ".metrics.jsonl")
    metrics_file.unlink(missing_ok=True)
    env = _kernel_env(task, metrics_file)
    Path(task.output_path).parent.mkdir(parents=True, exist_ok=True)
    started = time.time()
    with _kill_on_timeout(task) as timed_out:
        error = _run_papermill(task, env)
    status = "FINISHED" if error is None else "FAILED"
    if timed_out.is_set():
        error = {
            **(error or {}),
            "ename": "TimeoutError",
            "evalue": f"step exceeded its timeout of {task.timeout:g} s",
        }
        status = "FAILED"
    if stop.is_set():
        status = "KILLED"
    duration = time.time() - started
    text, cells, error = _read_executed(task.output_path, error)
    metrics, history = read_step_metrics(metrics_file)
    return NotebookResult(task.task_id, status, duration, error, cells, metrics, history, text)


def run_notebook_task(task: NotebookTask, stop: threading.Event | None = None) -> NotebookResult:
    """Execute ``task`` with its retries; the last attempt's result is returned."""
    stop = stop or threading.Event()
    attempts = 0
    while True:
        attempts += 1
        result = _execute_once(task, stop)
        result.attempts = attempts
        if result.status != "FAILED" or attempts > task.retries or stop.is_set():
            return result
