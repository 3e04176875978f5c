"""Runs side by side: params, metrics and environments with the differing keys marked, and the
code each ran (cell by cell). Shared by ``%mlops compare`` and the REST API, so each only renders.
"""

from __future__ import annotations

import difflib
import json
from typing import TYPE_CHECKING, Any

from ..errors import InvalidInput, NotFound
from .code_diff import code_diff
from .run_details import run_detail

if TYPE_CHECKING:
    from .gateway import Gateway


def _differs(values: list[Any]) -> bool:
    return len({json.dumps(v, sort_keys=True, default=str) for v in values}) > 1


def compare_runs(gw: Gateway, refs: list[str]) -> dict[str, Any]:
    """Params, metrics and distributions side by side, with the differing keys marked."""
    if len(refs) < 2:
        raise InvalidInput(
            "compare needs at least two runs", hint="%mlops compare RUN RUN [RUN ...]"
        )
    details = [run_detail(gw, ref, with_history=False) for ref in refs]
    table: dict[str, Any] = {
        "runs": [{"run_id": d["run_id"], "name": d["name"], "status": d["status"]} for d in details]
    }
    for section in ("params", "metrics"):
        keys = sorted({k for d in details for k in d[section]})
        table[section] = [
            {
                "key": k,
                "values": [d[section].get(k) for d in details],
                "differs": _differs([d[section].get(k) for d in details]),
            }
            for k in keys
        ]
    envs = [(d["environment"] or {}) for d in details]
    dist_keys = sorted({k for e in envs for k in e.get("distributions", {})})
    table["environment"] = [
        {
            "key": k,
            "values": [e.get(k) for e in envs],
            "differs": _differs([e.get(k) for e in envs]),
        }
        for k in ("python", "platform", "hash")
    ] + [
        {"key": k, "values": [e.get("distributions", {}).get(k) for e in envs], "differs": True}
        for k in dist_keys
        if _differs([e.get("distributions", {}).get(k) for e in envs])
    ]
    cells = [d["cell_source"] for d in details[:2]]
    table["cell_diff"] = None
    if all(cells) and cells[0] != cells[1]:  # tracked cells: the cells themselves, line by line
        table["cell_diff"] = list(
            difflib.unified_diff(
                cells[0].splitlines(),
                cells[1].splitlines(),
                details[0]["name"] or "a",
                details[1]["name"] or "b",
                lineterm="",
            )
        )
    try:
        table["code_diff"] = code_diff(gw, details[0]["run_id"], details[1]["run_id"])
    except NotFound:  # runs recorded from plain Python carry no code
        table["code_diff"] = None
    return table
