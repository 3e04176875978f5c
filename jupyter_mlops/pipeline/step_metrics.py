"""``log_step_metrics``: how a notebook reports a metric to the build step (or sweep trial) running it.

Inside ``jupyter-mlops build`` the kernel gets ``MLOPS_STEP_METRICS_FILE``; each call appends one
JSON line there, which the build reads when the notebook ends (and while it runs, to prune bad
trials). Outside a build it does nothing, so the same notebook runs unchanged by hand. Metrics
logged by the notebook's ``%%mlops track`` cells count too: they are children of the step's run.
"""

from __future__ import annotations

import json
import math
import time
from typing import Any

from ..settings import environment_settings


def log_step_metrics(
    metrics: dict[str, Any] | None = None, step: int | None = None, **kwargs: Any
) -> None:
    target = environment_settings().step_metrics_file
    if not target:
        return
    values = {**(metrics or {}), **kwargs}
    lines = []
    now = int(time.time() * 1000)
    for key, value in values.items():
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(f"metric {key!r} is {value!r}; metrics must be finite numbers")
        lines.append(json.dumps({"key": str(key), "value": number, "step": step, "ts": now}))
    with open(target, "a", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
