"""Hidden-state warnings: would this cell give the same result in a clean top-to-bottom run?

For every name the cell uses (and, transitively, every name the cells that set those names
used), the cell that really set it last in this kernel is compared with the cell that would set
it if the notebook ran from the top. A warning is raised when they differ: the name came from a
cell below this one, from an older cell overridden by one that has not been re-run, or from a
cell that is no longer in the saved notebook (deleted or edited since it ran). Papermill's injected
parameters cell is part of the run's inputs, never hidden state.

Pure and fast: it parses each cell once, and it never touches the kernel.
"""

from __future__ import annotations

import ast
import builtins
import functools
from dataclasses import dataclass

from .params import injected_cell_parameters

MAX_WARNINGS = 8
_BUILTINS = frozenset(dir(builtins)) | {"get_ipython", "In", "Out", "display", "exit", "quit"}


@dataclass(frozen=True)
class _CellNames:
    uses: frozenset[str]  # names read before (or without) being set in the cell
    sets: frozenset[str]


def _code(source: str) -> str:
    """Python code of a cell: cell-magic header dropped, line magics and shell escapes blanked."""
    lines = source.splitlines()
    if lines and lines[0].lstrip().startswith("%%"):
        lines = lines[1:]
    return "\n".join("" if ln.lstrip().startswith(("%", "!")) else ln for ln in lines)


def _key(source: str) -> str:
    return _code(source).strip()


class _Collector(ast.NodeVisitor):
    def __init__(self) -> None:
        self.first: dict[str, str] = {}  # name -> "load" | "store" (first top-level occurrence)
        self.sets: set[str] = set()

    def _store(self, name: str) -> None:
        self.sets.add(name)
        self.first.setdefault(name, "store")

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            self.first.setdefault(node.id, "load")
        else:
            self._store(node.id)

    def visit_Assign(self, node: ast.Assign) -> None:
        self.visit(node.value)  # the right side is read before the targets are set
        for target in node.targets:
            self.visit(target)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        if isinstance(node.target, ast.Name):
            self.first.setdefault(node.target.id, "load")
        self.visit(node.value)
        self.visit(node.target)

    def visit_Import(self, node: ast.Import | ast.ImportFrom) -> None:
        for alias in node.names:
            self._store(alias.asname or alias.name.split(".")[0])

    visit_ImportFrom = visit_Import

    def _scope(self, node: ast.AST, name: str | None) -> None:
        # a function or class body is its own scope: record the free names it reads, not its locals
        if name:
            self._store(name)
        for deco in getattr(node, "decorator_list", []):
            self.visit(deco)
        inner = _Collector()
        for child in ast.iter_child_nodes(node):
            if child not in getattr(node, "decorator_list", []):
                inner.visit(child)
        args = (
            node.args
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            else None
        )
        params = {a.arg for a in ast.walk(args) if isinstance(a, ast.arg)} if args else set()
        for n, how in inner.first.items():
            if how == "load" and n not in params and n not in inner.sets:
                self.first.setdefault(n, "load")

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._scope(node, node.name)

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._scope(node, node.name)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._scope(node, None)

    def _comprehension(self, node: ast.AST) -> None:
        self._scope(node, None)

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _comprehension


@functools.lru_cache(maxsize=2048)
def _names(source: str) -> _CellNames | None:
    try:
        tree = ast.parse(_code(source))
    except SyntaxError:
        return None
    collector = _Collector()
    collector.visit(tree)
    uses = {n for n, how in collector.first.items() if how == "load"} - _BUILTINS
    return _CellNames(frozenset(uses), frozenset(collector.sets))


def _first_line(source: str) -> str:
    line = next((ln.strip() for ln in _code(source).splitlines() if ln.strip()), "")
    return line if len(line) <= 60 else line[:57] + "..."


def hidden_state_warnings(
    history: list[tuple[int, str]], current_source: str, notebook_cells: list[str] | None
) -> list[str]:
    """Warnings (empty when a top-to-bottom run would see the same state) for the current cell.

    ``history``: the kernel's executed cells in order, (execution count, source), the current
    cell last; ``notebook_cells``: the saved notebook's code cells in order (None if unknown).
    """
    if notebook_cells is None or (current := _names(current_source)) is None:
        return []
    positions: dict[str, int] = {}
    for i, src in enumerate(notebook_cells):
        positions.setdefault(_key(src), i)
    past = list(history)
    if past and _key(past[-1][1]) == _key(current_source):
        past = past[:-1]
    here = positions.get(_key(current_source), len(notebook_cells))

    warnings: list[str] = []
    checked: set[tuple[str, int]] = set()
    todo = [(name, len(past), here, "this cell") for name in sorted(current.uses)]
    while todo and len(warnings) < MAX_WARNINGS:
        name, before, position, user = todo.pop(0)
        if (name, before) in checked:
            continue
        checked.add((name, before))
        entry = next(
            (
                j
                for j in range(before - 1, -1, -1)
                if (n := _names(past[j][1])) is not None and name in n.sets
            ),
            None,
        )
        if entry is None:
            continue  # not set by any cell: a builtin, a magic's doing, or an error anyway
        count, source = past[entry]
        if injected_cell_parameters(source) is not None:
            continue  # papermill's injected cell: an input of this run, not hidden state
        cell_pos = positions.get(_key(source))
        expected = next(
            (
                i
                for i in range(min(position, len(notebook_cells)) - 1, -1, -1)
                if (n := _names(notebook_cells[i])) is not None and name in n.sets
            ),
            None,
        )
        where = f"In [{count}] `{_first_line(source)}`"
        if cell_pos is None:
            warnings.append(
                f"{user} uses `{name}`, set by {where}, a cell no longer in the notebook "
                "(deleted or edited since it ran): a fresh run would not reproduce it"
            )
        elif cell_pos > position and expected is None:
            warnings.append(
                f"{user} uses `{name}`, set by code cell {cell_pos + 1} ({where}) which sits below it: "
                "cells ran out of order"
            )
        elif expected is not None and expected != cell_pos:
            warnings.append(
                f"{user} uses `{name}` as set by code cell {cell_pos + 1} ({where}), but run top to "
                f"bottom it would come from code cell {expected + 1}: cells ran out of order"
            )
        else:
            deps = _names(source)
            for dep in sorted(deps.uses if deps else ()):
                todo.append((dep, entry, cell_pos, f"code cell {cell_pos + 1} (In [{count}])"))
    return warnings
