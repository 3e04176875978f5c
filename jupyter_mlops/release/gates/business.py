"""The business gate: a notebook the team owns, executed by papermill with the candidate.

Parameters injected: ``model_uri`` (the candidate's files, inside the store), ``model_name``,
``model_version``, ``eval_path`` (the evaluation rows as Parquet), ``target``, ``result_path``,
plus ``parameters`` from mlops.yaml. The notebook computes its KPIs and writes
``{"kpis": {...}, "passed": bool, "reason": "..."}`` as JSON to ``result_path`` (``report`` below
does it, or plain ``json.dump``). A notebook that raises, or writes no verdict, fails the gate.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from ...workspace import Workspace
from .evaluation import EvaluationData
from .result import GateResult


def report(result_path: str, kpis: dict[str, float], passed: bool, reason: str = "") -> None:
    """Called from a gate notebook: records its KPI values and its verdict."""
    Path(result_path).write_text(
        json.dumps({"kpis": kpis, "passed": bool(passed), "reason": reason})
    )


def business_gate(
    ws: Workspace,
    spec: dict[str, Any],
    *,
    model_uri: str,
    model: str,
    version: str,
    data: EvaluationData,
    target: str,
    work_dir: Path,
) -> tuple[GateResult, Path | None]:
    """Run the business notebook on the evaluation data; its verdict file is the gate's result."""
    import papermill as pm

    from ...kernels import ENCRYPTED_KERNEL_MANAGER  # loads jupyter_client, as papermill does

    work_dir.mkdir(parents=True, exist_ok=True)
    eval_path = work_dir / "evaluation.parquet"
    data.X.assign(**{target: data.y.values}).to_parquet(eval_path)
    result_path = work_dir / "business_result.json"
    result_path.unlink(missing_ok=True)
    output = work_dir / "business_gate.ipynb"
    params = {
        **(spec.get("parameters") or {}),
        "model_uri": model_uri,
        "model_name": model,
        "model_version": str(version),
        "eval_path": str(eval_path),
        "target": target,
        "result_path": str(result_path),
    }
    notebook = spec["notebook"]
    try:
        pm.execute_notebook(
            str(ws.root / notebook),
            str(output),
            parameters=params,
            cwd=str(ws.root),
            execution_timeout=int(spec.get("timeout", 600)),
            progress_bar=False,
            log_output=False,
            kernel_manager_class=ENCRYPTED_KERNEL_MANAGER,
        )
    except pm.PapermillExecutionError as exc:
        reason = f"{notebook} failed in cell {exc.cell_index}: {exc.ename}: {exc.evalue}"
        return _failed(reason), output
    except Exception as exc:  # kernel died, timeout...
        reason = f"{notebook} could not run: {type(exc).__name__}: {exc}"
        return _failed(reason), output if output.exists() else None
    return _verdict(notebook, result_path), output


def _failed(reason: str) -> GateResult:
    return GateResult("business", "business", False, None, "notebook verdict", reason)


def _verdict(notebook: str, result_path: Path) -> GateResult:
    """The gate's result from the verdict the notebook wrote with ``report``."""
    if not result_path.is_file():
        return _failed(f"{notebook} wrote no verdict to result_path")
    try:
        res = json.loads(result_path.read_text())
        kpis = {str(k): float(v) for k, v in dict(res.get("kpis") or {}).items()}
        passed = res["passed"]
        if not isinstance(passed, bool):
            raise TypeError("passed must be true or false")
    except (ValueError, TypeError, KeyError) as exc:
        return _failed(f"unreadable verdict from {notebook}: {exc}")
    kpis = {k: v for k, v in kpis.items() if math.isfinite(v)}
    reason = str(res.get("reason") or "") or ", ".join(f"{k}={v:.4g}" for k, v in kpis.items())
    details = {"kpis": kpis, "notebook": notebook}
    return GateResult(
        "business", "business", passed, kpis or None, "notebook verdict", reason, details
    )
