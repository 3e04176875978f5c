"""Parameters a cell sets: the simple literals it assigns at top level.

Read from the cell's syntax tree (no evaluation): ``lr = 0.1``, ``layers = [64, 32]``,
``name: str = "run"``. Anything computed is left to ``--params``.
"""

from __future__ import annotations

import ast
from typing import Any

MAX_LIST = 10
MAX_STR = 250


def _simple(value: Any) -> bool:
    if value is None or isinstance(value, (bool, int, float)):
        return True
    if isinstance(value, str):
        return len(value) <= MAX_STR
    if isinstance(value, (list, tuple)):
        return len(value) <= MAX_LIST and all(
            v is None or isinstance(v, (bool, int, float, str)) for v in value
        )
    return False


def literal_assignments(source: str) -> dict[str, Any]:
    """Top-level ``name = literal`` assignments, last one winning; {} if the cell does not parse."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    found: dict[str, Any] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets, value_node = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value_node = [node.target], node.value
        else:
            continue
        if isinstance(value_node, ast.Constant):  # the common case, without literal_eval's cost
            value = value_node.value
        elif isinstance(value_node, (ast.List, ast.Tuple, ast.UnaryOp)):
            try:
                value = ast.literal_eval(value_node)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                continue
        else:
            continue
        if not _simple(value):
            continue
        for target in targets:
            if isinstance(target, ast.Name) and not target.id.startswith("_"):
                found[target.id] = value
    return found


def injected_cell_parameters(source: str) -> dict[str, Any] | None:
    """The parameters of papermill's injected cell, recognised by its header comment."""
    head = source.lstrip().splitlines()[:1]
    if not head or head[0].strip() not in ("# Parameters", "# parameters"):
        return None
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    params: dict[str, Any] = {}
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
        ):
            try:
                params[node.targets[0].id] = ast.literal_eval(node.value)
            except (ValueError, TypeError, SyntaxError):
                params[node.targets[0].id] = ast.unparse(node.value)
    return params
