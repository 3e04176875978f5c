"""Durations as mlops.yaml and the command line write them: ``90``, ``"30s"``, ``"10m"``, ``"2d"``.

One parser for every layer (the monitor's windows, the loop's triggers, the webhooks' timeouts),
so the same words mean the same number of seconds everywhere.
"""

from __future__ import annotations

import math
import re
from typing import Any

from .errors import InvalidInput

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$")
_UNIT = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, None: 1}
HINT = "e.g. 30s, 10m, 1h, 2d"


def parse_duration(value: Any, what: str = "duration") -> float:
    """Seconds from ``90``, ``"30s"``, ``"10m"``, ``"1.5h"``, ``"2d"``; InvalidInput otherwise."""
    if isinstance(value, bool):
        raise InvalidInput(f"{what} {value!r} is not a duration", hint=HINT)
    if isinstance(value, (int, float)) and math.isfinite(value) and value > 0:
        return float(value)
    if isinstance(value, str):
        m = _DURATION.match(value)
        if m and float(m.group(1)) > 0:
            return float(m.group(1)) * _UNIT[m.group(2)]
    raise InvalidInput(f"{what} {value!r} is not a duration", hint=HINT)
