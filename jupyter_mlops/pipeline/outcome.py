"""What an executed notebook says about its run: status, the failing cell, per-cell timings.

The rules are papermill's own (``raise_for_execution_errors``): an error output fails the run,
except ``SystemExit`` with code 0 or none, which ends the notebook successfully.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..limits import ERROR_TEXT


@dataclass
class NotebookOutcome:
    status: str  # FINISHED | FAILED
    error: dict[str, Any] | None = None  # cell_index, exec_count, ename, evalue
    cell_seconds: list[float | None] = field(default_factory=list)
    executed_cells: int = 0


def _get(obj: Any, key: str, default: Any = None) -> Any:
    return obj.get(key, default) if isinstance(obj, dict) else getattr(obj, key, default)


def notebook_outcome(nb: Any) -> NotebookOutcome:
    error = None
    seconds: list[float | None] = []
    executed = 0
    for index, cell in enumerate(_get(nb, "cells", [])):
        meta = _get(cell, "metadata", {}) or {}
        pm = _get(meta, "papermill", {}) or {}
        duration = _get(pm, "duration")
        seconds.append(float(duration) if duration is not None else None)
        if _get(pm, "status") in ("completed", "failed"):
            executed += 1
        if error is not None:
            continue
        has_sys_exit = False
        for output in _get(cell, "outputs", []) or []:
            if _get(output, "output_type") != "error":
                continue
            ename, evalue = _get(output, "ename"), _get(output, "evalue")
            if ename == "SystemExit" and evalue in ("", "0"):
                has_sys_exit = True
                continue
            error = {
                "cell_index": index,
                "exec_count": _get(cell, "execution_count"),
                "ename": ename,
                "evalue": str(evalue)[:ERROR_TEXT],
            }
            break
        if error is None and not has_sys_exit and _get(pm, "exception") is True:
            ename, evalue = _stderr_error(cell)
            error = {
                "cell_index": index,
                "exec_count": _get(cell, "execution_count"),
                "ename": ename,
                "evalue": evalue[:ERROR_TEXT],
            }
    return NotebookOutcome("FAILED" if error else "FINISHED", error, seconds, executed)


def _stderr_error(cell: Any) -> tuple[str, str]:
    """(ename, evalue) of a cell that failed without an error output: the last ``Name: message``
    line it wrote to stderr (IPython prints a ``UsageError`` that way), else the bare failure."""

    text = "".join(
        "".join(_get(o, "text", "") or "")
        for o in _get(cell, "outputs", []) or []
        if _get(o, "output_type") == "stream" and _get(o, "name") == "stderr"
    )
    for line in reversed(text.splitlines()):
        match = re.match(r"^([A-Z]\w*(?:Error|Exception)): (.+)$", line.strip())
        if match:
            return match.group(1), match.group(2)
    return "CellExecutionError", text.strip().splitlines()[-1] if text.strip() else ""
