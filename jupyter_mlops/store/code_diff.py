"""A readable, cell-by-cell diff of the code two runs executed (not a diff of notebook JSON).

The code of a run is, in order of preference, its saved notebook's code cells
(``mlops/notebook.json``), the cells its kernel executed (``mlops/history.json``) or its own cell
(``mlops/cell.py``). Cells are aligned like lines in ``difflib`` (a cell inserted in the middle
does not shift every later cell into "changed"), and changed cells get a unified line diff.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import NotFound
from .run_details import recorded_code
from .runs import get_run

if TYPE_CHECKING:
    from .gateway import Gateway

SIMILAR = 0.5  # below this, an old and a new cell are a removal plus an addition, not an edit


@dataclass
class CellChange:
    status: str  # same | changed | added | removed
    a_index: int | None
    b_index: int | None
    a_source: str = ""
    b_source: str = ""
    lines: list[str] = field(default_factory=list)

    @property
    def position(self) -> int:
        """0-based: the cell's index in the old notebook, else (an added cell) in the new one."""
        index = self.a_index if self.a_index is not None else self.b_index
        assert index is not None  # a change has a cell on one side at least
        return index


@dataclass
class CodeDiff:
    a: str
    b: str
    a_origin: str
    b_origin: str
    cells: list[CellChange]

    @property
    def identical(self) -> bool:
        return all(c.status == "same" for c in self.cells)

    def summary(self) -> str:
        counts = {
            s: sum(c.status == s for c in self.cells) for s in ("changed", "added", "removed")
        }
        if self.identical:
            return f"same code ({len(self.cells)} cells)"
        return ", ".join(f"{n} {s}" for s, n in counts.items() if n)


def run_code(gw: Gateway, run_id: str) -> tuple[list[str], str] | None:
    """(code cells, where they came from) of a run, or None when it recorded no code."""
    code = recorded_code(gw, run_id)
    if code["notebook"] is not None:
        return code["notebook"], "notebook"
    if code["history"]:
        return code["history"], "executed cells"
    if code["cell"] is not None:
        return [code["cell"]], "cell"
    return None


def _changed(a: str, b: str, i: int, j: int) -> CellChange:
    lines = list(
        difflib.unified_diff(a.splitlines(), b.splitlines(), "before", "after", lineterm="", n=2)
    )[2:]
    return CellChange("changed", i, j, a, b, lines)


def _pair_block(a: list[str], b: list[str], ia: range, jb: range) -> list[CellChange]:
    """Inside a differing block, pair each old cell with the most similar later new cell."""
    out: list[CellChange] = []
    j = jb.start
    for i in ia:
        scores = [
            (difflib.SequenceMatcher(a=a[i], b=b[k], autojunk=False).ratio(), k)
            for k in range(j, jb.stop)
        ]
        best = max(scores, default=(0.0, -1))
        if best[0] < SIMILAR:
            out.append(CellChange("removed", i, None, a_source=a[i]))
            continue
        k = best[1]
        out += [CellChange("added", None, m, b_source=b[m]) for m in range(j, k)]
        out.append(_changed(a[i], b[k], i, k))
        j = k + 1
    out += [CellChange("added", None, m, b_source=b[m]) for m in range(j, jb.stop)]
    return out


def diff_cells(a: list[str], b: list[str]) -> list[CellChange]:
    norm_a = [s.strip() for s in a]
    norm_b = [s.strip() for s in b]
    out: list[CellChange] = []
    matcher = difflib.SequenceMatcher(a=norm_a, b=norm_b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            out += [
                CellChange("same", i, j, a[i], b[j])
                for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
            ]
            continue
        out += _pair_block(a, b, range(i1, i2), range(j1, j2))
    return out


def code_diff(gw: Gateway, run_a: str, run_b: str) -> CodeDiff:
    """Cell-by-cell code diff between two runs (ids, keys or names)."""
    runs: list[Any] = [get_run(gw, run_a), get_run(gw, run_b)]
    codes = []
    for ref, run in zip((run_a, run_b), runs, strict=True):
        code = run_code(gw, run.info.run_id)
        if code is None:
            raise NotFound(
                f"run {ref} recorded no code",
                hint="runs tracked with %%mlops track or run as pipeline steps record their code",
            )
        codes.append(code)
    (cells_a, origin_a), (cells_b, origin_b) = codes
    return CodeDiff(
        runs[0].info.run_name or run_a,
        runs[1].info.run_name or run_b,
        origin_a,
        origin_b,
        diff_cells(cells_a, cells_b),
    )
