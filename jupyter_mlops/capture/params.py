"""Parameters a cell sets: the simple literals it assigns at top level, and the simple values
it reads that earlier cells set.

Read from the cell's syntax tree (no evaluation): ``lr = 0.1``, ``layers = [64, 32]``,
``name: str = "run"``. A name the cell reads before assigning it (``C`` in
``LogisticRegression(C=C)``) whose value is simple when the cell starts is a param too, with the
earlier cell that set it as its source (``values_read``). Anything computed is left to
``--params``.
"""

from __future__ import annotations

import ast
import json
from typing import Any

MAX_LIST = 10
MAX_STR = 250
# names IPython puts in the namespace: never parameters
_SHELL_NAMES = frozenset({"In", "Out", "exit", "quit", "get_ipython"})


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


def _assigned(node: ast.AST) -> set[str]:
    names: set[str] = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, (ast.Store, ast.Del)):
            names.add(sub.id)
        elif isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(sub.name)
        elif isinstance(sub, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in sub.names)
    return names


def names_read_first(source: str) -> list[str]:
    """Names the cell reads before it assigns them itself, in the order it first reads them."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    assigned: set[str] = set()
    read: dict[str, None] = {}
    for stmt in tree.body:
        stored: set[str] = set()
        for sub in ast.walk(stmt):  # one walk a statement: this runs as the cell starts
            if isinstance(sub, ast.Name):
                if not isinstance(sub.ctx, ast.Load):
                    stored.add(sub.id)
                elif sub.id not in assigned:
                    read.setdefault(sub.id)
            elif isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                stored.add(sub.name)
            elif isinstance(sub, (ast.Import, ast.ImportFrom)):
                stored.update((a.asname or a.name).split(".")[0] for a in sub.names)
        assigned |= stored
    return list(read)


# source text -> (names it assigns, whether it is papermill's parameters cell): each history
# entry is parsed once per kernel, not once per tracked cell
_assigned_by_source: dict[str, tuple[frozenset[str], bool]] = {}


def _assignments_of(src: str) -> tuple[frozenset[str], bool]:
    found = _assigned_by_source.get(src)
    if found is None:
        try:
            names = frozenset(_assigned(ast.parse(src)))
        except SyntaxError:
            names = frozenset()
        found = (names, injected_cell_parameters(src) is not None)
        if len(_assigned_by_source) > 5000:
            _assigned_by_source.clear()
        _assigned_by_source[src] = found
    return found


def _source_of(name: str, history: list[tuple[int, str]], current: int | None) -> str:
    for count, src in reversed(history):
        if count == current or name not in src:
            continue
        names, parameters = _assignments_of(src)
        if name in names:
            return f"papermill parameters (In[{count}])" if parameters else f"cell In[{count}]"
    return "set before this cell"


def values_read(
    source: str,
    user_ns: dict[str, Any],
    history: list[tuple[int, str]],
    current: int | None = None,
) -> dict[str, tuple[Any, str]]:
    """name -> (value, where it was set) for the simple values the cell reads from earlier
    cells (taken as the cell starts, before it can change them)."""
    own = literal_assignments(source)
    found: dict[str, tuple[Any, str]] = {}
    for name in names_read_first(source):
        if name.startswith("_") or name in own or name not in user_ns:
            continue
        value = user_ns[name]
        if name in _SHELL_NAMES or value is None or not _simple(value):
            continue
        if isinstance(value, (list, tuple)) and not value:
            continue
        found[name] = (value, _source_of(name, history, current))
    return found


def sources_text(sources: dict[str, str], limit: int = 8000) -> str:
    """``sources`` as compact JSON within a tag's ``limit``; entries that do not fit are
    counted under ``"..."``."""
    kept = dict(sources)
    text = json.dumps(kept, separators=(",", ":"))
    dropped = 0
    while len(text) > limit and kept:
        kept.popitem()
        dropped += 1
        text = json.dumps({**kept, "...": f"{dropped} more"}, separators=(",", ":"))
    return text
