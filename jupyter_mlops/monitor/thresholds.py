"""The ``monitor:`` section of mlops.yaml: report window, drift, health and canary thresholds.

The pipeline schema accepts ``monitor:`` as an opaque mapping; this module owns its meaning and
reports mistakes with the file, the key path and the line, e.g.
``mlops.yaml:14: monitor.canary.max_error_rate_increase: must be a number between 0 and 1``.

    monitor:
      window: 1h                 # default report window
      buckets: 12                # time buckets in "over time" views
      drift: {psi: 0.2, ks: 0.1, missing_rate: 0.05, unseen_rate: 0.05, min_rows: 30}
      health: {max_error_rate: 0.05, max_latency_p95_ms: 500}
      canary:
        window: 10m
        min_requests: 50         # per version, before the guard judges
        max_error_rate_increase: 0.02
        max_latency_p95_ratio: 1.5
        min_latency_p95_increase_ms: 5
        max_prediction_psi: 0.25  # canary outputs against the champion's, same traffic
        action: rollback         # or: report
        interval: 30s            # how often a running guard checks
        guard: false             # true: `jupyter-mlops serve` runs the guard (also: serve --guard)
        max_quality_drop: 0.05   # canary vs champion on labeled predictions (labels arrive late)
        quality_window: 1d       # how far back the guard looks for labeled predictions
      quality:                   # from late labels (`jupyter-mlops monitor labels MODEL FILE`)
        task: auto               # or classification, regression
        positive: 1              # the positive class of a binary classifier
        prediction: out          # the logged output holding the predicted value
        score: out.proba         # a logged score for AUC (default: the prediction)
        min_labels: 30           # labeled predictions a version needs before it is judged
        min: {accuracy: 0.8}     # an alert below (accuracy, precision, recall, auc)
        max: {rmse: 5.0}         # an alert above (mae, rmse)
        max_drop: 0.05           # an alert this far below the version's figure at validation
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import Site, compose_yaml, did_you_mean
from ..durations import parse_duration as parse_duration  # where the monitor's callers find it
from ..errors import ConfigError, InvalidInput
from ..workspace import Workspace
from .drift import DriftThresholds


@dataclass
class HealthThresholds:
    max_error_rate: float = 0.05
    max_latency_p95_ms: float | None = None


@dataclass
class CanaryThresholds:
    window: float = 600.0
    min_requests: int = 50
    max_error_rate_increase: float = 0.02
    max_latency_p95_ratio: float = 1.5
    min_latency_p95_increase_ms: float = 5.0
    max_prediction_psi: float = 0.25
    action: str = "rollback"
    interval: float = 30.0
    guard: bool = False
    max_quality_drop: float = 0.05  # in a figure between 0 and 1; relative for mae and rmse
    quality_window: float = 86400.0


QUALITY_METRICS = ("accuracy", "precision", "recall", "auc", "mae", "rmse")


@dataclass
class QualityThresholds:
    """``monitor.quality``: how late labels are scored and when their figures alert."""

    task: str = "auto"
    positive: Any = None
    prediction: str | None = None  # None: the log's ``out`` column
    score: str | None = None
    min_labels: int = 30
    min: dict[str, float] = field(default_factory=dict)
    max: dict[str, float] = field(default_factory=dict)
    max_drop: float | None = None


@dataclass
class LogSettings:
    """The prediction log's shipping and retention (``monitor.log`` in mlops.yaml)."""

    ship_interval: float = 60.0  # seconds between uploads of closed segments to the team server
    max_age: float = 7 * 86400.0  # local segments older than this are deleted
    max_mb: float = 512.0  # and the oldest go first while the folder is larger than this


@dataclass
class MonitorConfig:
    window: float = 3600.0
    buckets: int = 12
    drift: DriftThresholds = field(default_factory=DriftThresholds)
    health: HealthThresholds = field(default_factory=HealthThresholds)
    canary: CanaryThresholds = field(default_factory=CanaryThresholds)
    log: LogSettings = field(default_factory=LogSettings)
    quality: QualityThresholds = field(default_factory=QualityThresholds)


def _rate(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 1


def _positive(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v >= 0


def _count(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


# key -> (check, message) per section; "duration" values are converted to seconds
_SECTIONS: dict[str, dict[str, tuple[Any, str]]] = {
    "drift": {
        "psi": (_positive, "a number >= 0"),
        "ks": (_rate, "a number between 0 and 1"),
        "missing_rate": (_rate, "a number between 0 and 1"),
        "unseen_rate": (_rate, "a number between 0 and 1"),
        "min_rows": (_count, "a whole number >= 0"),
    },
    "health": {
        "max_error_rate": (_rate, "a number between 0 and 1"),
        "max_latency_p95_ms": (_positive, "a number of milliseconds >= 0"),
    },
    "canary": {
        "window": ("duration", ""),
        "min_requests": (_count, "a whole number >= 0"),
        "max_error_rate_increase": (_rate, "a number between 0 and 1"),
        "max_latency_p95_ratio": (_positive, "a number >= 0"),
        "min_latency_p95_increase_ms": (_positive, "a number of milliseconds >= 0"),
        "max_prediction_psi": (_positive, "a number >= 0"),
        "action": (lambda v: v in ("rollback", "report"), "'rollback' or 'report'"),
        "interval": ("duration", ""),
        "guard": (lambda v: isinstance(v, bool), "true or false"),
        "max_quality_drop": (_positive, "a number >= 0"),
        "quality_window": ("duration", ""),
    },
    "quality": {
        "task": (
            lambda v: v in ("auto", "classification", "regression"),
            "auto, classification or regression",
        ),
        "positive": (
            lambda v: isinstance(v, (str, int, bool)),
            "a class: text, a whole number or a boolean",
        ),
        "prediction": (
            lambda v: isinstance(v, str) and v.startswith("out"),
            "a logged output column: out or out.NAME",
        ),
        "score": (
            lambda v: isinstance(v, str) and v.startswith("out"),
            "a logged output column: out or out.NAME",
        ),
        "min_labels": (_count, "a whole number >= 0"),
        "min": ("metrics", ""),
        "max": ("metrics", ""),
        "max_drop": (_rate, "a number between 0 and 1"),
    },
    "log": {
        "ship_interval": ("duration", ""),
        "max_age": ("duration", ""),
        "max_mb": (_positive, "a number of megabytes >= 0"),
    },
}
_TOP = {
    "window": ("duration", ""),
    "buckets": (lambda v: _count(v) and v >= 1, "a whole number >= 1"),
}


def parse_monitor_section(
    section: Any, *, path: str = "mlops.yaml", node: Any = None
) -> MonitorConfig:
    """Validate a ``monitor:`` mapping into a MonitorConfig (ConfigError naming key and line)."""

    site = Site(path, node)

    def fail(keys: list[str], message: str, hint: str | None = None) -> ConfigError:
        return site.error(["monitor", *keys], message, hint)

    cfg = MonitorConfig()
    if section is None:
        return cfg
    section = site.mapping(["monitor"], section)

    def check(keys: list[str], value: Any, rule: tuple[Any, str]) -> Any:
        test, wanted = rule
        if test == "metrics":
            return _metric_bounds(keys, value, fail)
        if test == "duration":
            try:
                return parse_duration(value, "value")
            except InvalidInput:
                raise fail(keys, f"{value!r} is not a duration", "e.g. 30s, 10m, 1h, 2d") from None
        if not test(value):
            raise fail(keys, f"must be {wanted}, got {value!r}")
        return value

    site.known(["monitor"], section, sorted([*_TOP, *_SECTIONS]))
    for key, value in section.items():
        if key in _TOP:
            setattr(cfg, key, check([key], value, _TOP[key]))
            continue
        rules = _SECTIONS[key]
        value = site.mapping(["monitor", key], value)
        site.known(["monitor", key], value, sorted(rules))
        for sub, subvalue in value.items():
            setattr(getattr(cfg, key), sub, check([key, str(sub)], subvalue, rules[sub]))
    return cfg


def _metric_bounds(keys: list[str], value: Any, fail: Any) -> dict[str, float]:
    """``{accuracy: 0.8, rmse: 5}``: quality metric names (did-you-mean) to numbers."""
    if not isinstance(value, dict):
        raise fail(keys, f"must map quality metrics to numbers, not {value!r}")
    for name, bound in value.items():
        if name not in QUALITY_METRICS:
            raise fail(
                [*keys, str(name)],
                f"unknown quality metric{did_you_mean(name, QUALITY_METRICS)}",
                f"known: {', '.join(QUALITY_METRICS)}",
            )
        if (
            isinstance(bound, bool)
            or not isinstance(bound, (int, float))
            or not math.isfinite(bound)
        ):
            raise fail([*keys, str(name)], f"must be a number, got {bound!r}")
    return {str(k): float(v) for k, v in value.items()}


def load_monitor_config(ws: Workspace) -> MonitorConfig:
    """The workspace's monitor thresholds (defaults when mlops.yaml or its section is absent)."""
    path: Path = ws.config_path
    if not path.is_file():
        return MonitorConfig()

    data, node = compose_yaml(path)
    section = data.get("monitor") if isinstance(data, dict) else None
    return parse_monitor_section(section, path=str(path.name), node=node)
