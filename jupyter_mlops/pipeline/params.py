"""Parameter safety: papermill injects ``name = repr(value)`` into a cell, literally.

So a name must be a plain identifier and a value a literal (numbers, strings, booleans, None and
lists/dicts of those). Anything else could run code in the kernel or break the injected cell.
"""

from __future__ import annotations

import keyword
import math
from typing import Any

MAX_DEPTH = 20


def is_identifier(name: object) -> bool:
    return isinstance(name, str) and name.isidentifier() and not keyword.iskeyword(name)


def literal_problem(value: Any, depth: int = 0) -> str | None:
    """Why ``value`` is not an injectable literal, or None when it is."""
    if depth > MAX_DEPTH:
        return "nested too deeply"
    if value is None or isinstance(value, (bool, int, str)):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{value!r} is not a finite number"
    if isinstance(value, (list, tuple)):
        for item in value:
            problem = literal_problem(item, depth + 1)
            if problem:
                return problem
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"dict key {key!r} is not a string"
            problem = literal_problem(item, depth + 1)
            if problem:
                return problem
        return None
    return f"a {type(value).__name__} is not a literal (use numbers, strings, booleans, None, lists, dicts)"
