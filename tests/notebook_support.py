"""Small notebooks written for tests: an optional papermill parameters cell, then code cells."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def make_notebook(path: Path, params: str | None, *cells: str) -> Path:
    """Write ``path``: a cell tagged ``parameters`` (when ``params`` is given), then ``cells``."""
    nb = new_notebook(cells=[new_code_cell(c) for c in cells])
    if params is not None:
        first = new_code_cell(params)
        first.metadata["tags"] = ["parameters"]
        nb.cells.insert(0, first)
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nbformat.write(nb, path)
    return path
