"""The ``release:`` section of mlops.yaml: what a model must pass before it may serve.

Example::

    release:
      model: churn
      intended_use: Rank customers by churn risk for the retention team; not for pricing.
      evaluation: {path: data/eval.csv, target: label}      # or {dataset: NAME[@VERSION], target: ...}
      gates:
        metrics: {accuracy: {min: 0.8}}
        champion: {metric: accuracy, min_delta: -0.01}      # or min_relative: -0.02
        signature: true
        latency: {p95_ms: 50, n: 200}
        size: {max_mb: 50}
        business: {notebook: gate_business.ipynb, parameters: {min_saving: 1000}}
        fairness: {sensitive: group, metric: accuracy, max_disparity: 0.1}   # bins: N for numbers
        importance: {top: 5, forbid: [customer_id]}
      rollout: {canary_weight: 10}

Errors name the file, the key path and its line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..config import did_you_mean
from ..errors import ConfigError
from ..workspace import Workspace

KNOWN_METRICS = ("accuracy", "f1", "precision", "recall", "roc_auc", "r2", "rmse", "mae")
LOWER_IS_BETTER = ("rmse", "mae")
_GATES = (
    "metrics",
    "champion",
    "signature",
    "latency",
    "size",
    "business",
    "fairness",
    "importance",
)


@dataclass
class ReleasePolicy:
    model_name: str | None = None
    intended_use: str = ""
    limitations: str = ""
    evaluation: dict[str, Any] = field(default_factory=dict)
    gates: dict[str, Any] = field(default_factory=dict)
    canary_weight: float = 10.0
    source: str = "defaults"


class _Where:
    def __init__(self, ws: Workspace, node: Any) -> None:
        self.path, self.node = str(ws.config_path), node

    def error(self, keys: list[str | int], message: str, hint: str | None = None) -> ConfigError:
        from ..config import line_of

        line = line_of(self.node, keys) if self.node is not None else None
        key = ".".join(str(k) for k in keys)
        return ConfigError(message, path=self.path, key=key, line=line, hint=hint)


def _mapping(where: _Where, keys: list, value: Any) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise where.error(keys, f"must be a mapping, not {type(value).__name__}")
    return value


def _number(
    where: _Where, keys: list, value: Any, lo: float | None = None, hi: float | None = None
) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise where.error(keys, f"must be a number, not {value!r}")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise where.error(keys, f"must be between {lo} and {hi}, got {value}")
    return float(value)


def parse_policy(ws: Workspace, section: Any, node: Any = None) -> ReleasePolicy:
    where = _Where(ws, node)
    base = ["release"]
    section = _mapping(where, base, section)
    known = ("model", "intended_use", "limitations", "evaluation", "gates", "rollout")
    unknown = set(section) - set(known)
    if unknown:
        key = sorted(unknown)[0]
        raise where.error(
            base + [key],
            f"unknown key{did_you_mean(key, known)}",
            hint=f"known: {', '.join(known)}",
        )
    pol = ReleasePolicy(source=str(ws.config_path))
    if section.get("model") is not None:
        from .registry import check_name

        try:
            pol.model_name = check_name(str(section["model"]))
        except Exception as exc:
            raise where.error(base + ["model"], str(exc)) from None
    pol.intended_use = str(section.get("intended_use") or "")
    pol.limitations = str(section.get("limitations") or "")
    ev = _mapping(where, base + ["evaluation"], section.get("evaluation"))
    if ev:
        if not ev.get("path") and not ev.get("dataset"):
            raise where.error(base + ["evaluation"], "needs `path` or `dataset`")
        if not ev.get("target"):
            raise where.error(base + ["evaluation"], "needs `target` (the label column)")
    pol.evaluation = ev
    gates = _mapping(where, base + ["gates"], section.get("gates"))
    for name, spec in gates.items():
        keys = base + ["gates", name]
        if name not in _GATES:
            raise where.error(
                keys,
                f"unknown gate{did_you_mean(name, _GATES)}",
                hint=f"known: {', '.join(_GATES)}",
            )
        if name == "signature":
            if not isinstance(spec, bool):
                raise where.error(keys, "must be true or false")
            continue
        spec = _mapping(where, keys, spec)
        gates[name] = spec
        if name == "metrics":
            for metric, bounds in spec.items():
                if metric not in KNOWN_METRICS:
                    raise where.error(
                        keys + [metric], "unknown metric", hint=f"known: {', '.join(KNOWN_METRICS)}"
                    )
                bounds = _mapping(where, keys + [metric], bounds)
                if not bounds or set(bounds) - {"min", "max"}:
                    raise where.error(keys + [metric], "give `min` and/or `max`")
                for b, v in bounds.items():
                    _number(where, keys + [metric, b], v)
        elif name == "champion":
            if spec.get("metric") not in KNOWN_METRICS:
                raise where.error(keys + ["metric"], f"must be one of {', '.join(KNOWN_METRICS)}")
            if "min_delta" not in spec and "min_relative" not in spec:
                raise where.error(keys, "give `min_delta` (absolute) or `min_relative` (fraction)")
            for b in ("min_delta", "min_relative"):
                if b in spec:
                    _number(where, keys + [b], spec[b])
        elif name == "latency":
            _number(where, keys + ["p95_ms"], spec.get("p95_ms"), 0)
            spec.setdefault("n", 200)
            _number(where, keys + ["n"], spec["n"], 10, 100_000)
        elif name == "size":
            _number(where, keys + ["max_mb"], spec.get("max_mb"), 0)
        elif name == "business":
            nb = spec.get("notebook")
            if not isinstance(nb, str) or not nb.endswith(".ipynb"):
                raise where.error(keys + ["notebook"], "must name a .ipynb file")
            if not (ws.root / nb).is_file() or not ws.contains(ws.root / nb):
                raise where.error(keys + ["notebook"], f"no notebook {nb!r} in the project")
            _mapping(where, keys + ["parameters"], spec.get("parameters"))
        elif name == "fairness":
            if not isinstance(spec.get("sensitive"), str):
                raise where.error(keys + ["sensitive"], "must name the sensitive feature column")
            spec.setdefault("metric", "accuracy")
            if spec["metric"] not in ("accuracy", "selection_rate", "recall", "precision"):
                raise where.error(
                    keys + ["metric"], "must be accuracy, selection_rate, recall or precision"
                )
            _number(where, keys + ["max_disparity"], spec.get("max_disparity"), 0, 1)
            if "bins" in spec:
                _number(where, keys + ["bins"], spec["bins"], 2, 100)
        elif name == "importance":
            spec.setdefault("top", 5)
            _number(where, keys + ["top"], spec["top"], 1, 1000)
            forbid = spec.setdefault("forbid", [])
            if not isinstance(forbid, list):
                raise where.error(keys + ["forbid"], "must be a list of column names")
    if (
        gates
        and not ev
        and any(g in gates for g in ("metrics", "champion", "fairness", "importance", "business"))
    ):
        raise where.error(base + ["evaluation"], "the gates need an evaluation dataset")
    pol.gates = gates
    rollout = _mapping(where, base + ["rollout"], section.get("rollout"))
    if "canary_weight" in rollout:
        pol.canary_weight = _number(
            where, base + ["rollout", "canary_weight"], rollout["canary_weight"], 0, 100
        )
    return pol


def load_policy(ws: Workspace) -> ReleasePolicy:
    """The workspace's release policy (defaults when mlops.yaml has no ``release:``)."""
    if not ws.config_path.is_file():
        return ReleasePolicy()
    from ..config import compose_yaml

    data, node = compose_yaml(ws.config_path)
    if not isinstance(data, dict) or data.get("release") is None:
        return ReleasePolicy()
    return parse_policy(ws, data["release"], node)
