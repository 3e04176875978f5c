"""Checks that keep records MLflow would refuse out of the journal, with a message that says why.

A refused record found only when the replayer sends it would surface seconds later, far from the
cell that made it; checking here turns it into a one-line error at the cell.
"""

from __future__ import annotations

import decimal
import math
import numbers
import re
from collections.abc import Mapping
from typing import Any, cast

from ..errors import InvalidInput

KEY_RE = re.compile(r"^[/\w.\- :]+$")
MAX_KEY = 250
MAX_PARAM_VALUE = 6000
MAX_TAG_VALUE = 8000


def check_key(key: Any, what: str) -> str:
    if not isinstance(key, str) or not key:
        raise InvalidInput(f"{what} name {key!r} must be a non-empty string")
    if len(key) > MAX_KEY:
        raise InvalidInput(
            f"{what} name {key[:40]!r}... is {len(key)} characters; the limit is {MAX_KEY}"
        )
    if not KEY_RE.match(key) or ".." in key or key.startswith("/"):
        raise InvalidInput(
            f"{what} name {key!r} has characters MLflow refuses",
            hint="use letters, digits, '_', '-', '.', ' ', ':' and '/'",
        )
    return key


def metric_value(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        try:
            import numpy as np  # numpy scalars and 0-d arrays are fine

            if isinstance(value, np.ndarray) and value.shape == () or isinstance(value, np.generic):
                value = value.item()
        except ImportError:
            pass
    if isinstance(value, decimal.Decimal):
        value = _decimal_value(key, value)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidInput(
            f"metric {key!r} is {type(value).__name__}, not a number",
            hint="log numbers as metrics; use params or tags for text",
        )
    try:
        value = float(value)
    except OverflowError:
        raise InvalidInput(
            f"metric {key!r} is too large for a float (about 10**{_magnitude(value)})",
            hint="metrics are 64-bit floats (up to about 1.8e308); log its logarithm instead",
        ) from None
    if math.isnan(value) or math.isinf(value):
        raise InvalidInput(f"metric {key!r} is {value}", hint="log finite numbers only")
    return cast(float, value)


def _magnitude(value: Any) -> int:
    try:
        return int(int(value).bit_length() * math.log10(2))
    except (TypeError, ValueError, OverflowError):
        return 308


def _decimal_value(key: str, value: decimal.Decimal) -> float:
    """A Decimal metric as a float, refused only when a float cannot hold it."""
    if value.is_nan() or value.is_infinite():
        raise InvalidInput(f"metric {key!r} is {value}", hint="log finite numbers only")
    result = float(value)
    if math.isinf(result):
        raise InvalidInput(
            f"metric {key!r} ({value}) is too large for a float",
            hint="metrics are 64-bit floats (up to about 1.8e308)",
        )
    return result


def check_metrics(metrics: Mapping[str, Any]) -> dict[str, float]:
    if not isinstance(metrics, Mapping):
        raise InvalidInput(
            f"metrics must be a mapping of name -> number, not {type(metrics).__name__}"
        )
    return {check_key(k, "metric"): metric_value(k, v) for k, v in metrics.items()}


def param_text(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text


def check_params(params: Mapping[str, Any]) -> dict[str, str]:
    if not isinstance(params, Mapping):
        raise InvalidInput(
            f"params must be a mapping of name -> value, not {type(params).__name__}"
        )
    out = {}
    for key, value in params.items():
        check_key(key, "param")
        text = param_text(value)
        if len(text) > MAX_PARAM_VALUE:
            raise InvalidInput(
                f"param {key!r} is {len(text)} characters long; the limit is {MAX_PARAM_VALUE}",
                hint="log long values as artifacts",
            )
        out[key] = text
    return out


def check_tags(tags: Mapping[str, Any]) -> dict[str, str]:
    if not isinstance(tags, Mapping):
        raise InvalidInput(f"tags must be a mapping of name -> text, not {type(tags).__name__}")
    out = {}
    for key, value in tags.items():
        check_key(key, "tag")
        text = str(value)
        if len(text) > MAX_TAG_VALUE:
            raise InvalidInput(
                f"tag {key!r} is {len(text)} characters long; the limit is {MAX_TAG_VALUE}"
            )
        out[key] = text
    return out


def parse_tag_options(items: list[str] | None) -> dict[str, str]:
    """``--tags k=v k2=v2`` (also comma separated) -> dict, with an error naming a bad item."""
    tags: dict[str, str] = {}
    for item in items or []:
        for part in filter(None, (p.strip() for p in item.split(","))):
            if "=" not in part or part.startswith("="):
                raise InvalidInput(f"malformed tag {part!r}", hint="write tags as key=value")
            key, value = part.split("=", 1)
            tags[key.strip()] = value.strip()
    return check_tags(tags)


def split_names(text: str | None) -> list[str]:
    names = [n.strip() for n in (text or "").split(",") if n.strip()]
    for name in names:
        if not name.isidentifier():
            raise InvalidInput(f"{name!r} is not a variable name", hint="list names like a,b,c")
    return names
