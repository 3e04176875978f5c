"""The gates jupyter-mlops ships: each one's settings check and its run, side by side.

Technical: ``metrics`` (thresholds), ``champion`` (no worse than the serving model),
``signature`` (accepts what the champion accepts), ``latency`` and ``size`` budgets. Business:
``business`` (a papermill notebook reports KPIs and a verdict). Responsible: ``fairness``
(per-group disparity) and ``importance`` (permutation importance, forbidden features).
"""

from __future__ import annotations

from typing import Any

from ...errors import ConfigError
from . import business, responsible, technical
from .evaluation import KNOWN_METRICS, EvaluationData
from .protocol import GateContext
from .result import GateResult
from .spec_check import Keys, SpecSite

FAIRNESS_METRICS = ("accuracy", "selection_rate", "recall", "precision")


class _SimpleGate:
    """Defaults for a gate with a mapping of settings and no metrics of its own to compute."""

    name = ""
    kind = "technical"
    needs_evaluation = False

    def check_config(self, site: SpecSite, keys: Keys, spec: Any) -> Any:
        return site.mapping(keys, spec)

    def metrics_needed(self, spec: Any) -> set[str]:
        return set()


class MetricsGate(_SimpleGate):
    name, needs_evaluation = "metrics", True

    def check_config(self, site: SpecSite, keys: Keys, spec: Any) -> Any:
        spec = site.mapping(keys, spec)
        for metric, bounds in spec.items():
            if metric not in KNOWN_METRICS:
                raise site.error(
                    keys + [metric], "unknown metric", hint=f"known: {', '.join(KNOWN_METRICS)}"
                )
            bounds = site.mapping(keys + [metric], bounds)
            if not bounds or set(bounds) - {"min", "max"}:
                raise site.error(keys + [metric], "give `min` and/or `max`")
            for bound, value in bounds.items():
                site.number(keys + [metric, bound], value)
        return spec

    def metrics_needed(self, spec: Any) -> set[str]:
        return set(spec)

    def run(self, ctx: GateContext, spec: Any) -> list[GateResult]:
        results = [
            GateResult(f"metrics.{m}", self.kind, False, None, None, f"{m} cannot be computed")
            for m in spec
            if m not in ctx.metrics
        ]
        computable = {k: v for k, v in spec.items() if k in ctx.metrics}
        return results + technical.metric_gates(computable, ctx.metrics)


class ChampionGate(_SimpleGate):
    name, needs_evaluation = "champion", True

    def check_config(self, site: SpecSite, keys: Keys, spec: Any) -> Any:
        spec = site.mapping(keys, spec)
        if spec.get("metric") not in KNOWN_METRICS:
            raise site.error(keys + ["metric"], f"must be one of {', '.join(KNOWN_METRICS)}")
        if "min_delta" not in spec and "min_relative" not in spec:
            raise site.error(keys, "give `min_delta` (absolute) or `min_relative` (fraction)")
        for bound in ("min_delta", "min_relative"):
            if bound in spec:
                site.number(keys + [bound], spec[bound])
        return spec

    def metrics_needed(self, spec: Any) -> set[str]:
        return {spec["metric"]}

    def run(self, ctx: GateContext, spec: Any) -> list[GateResult]:
        return [
            technical.champion_gate(spec, ctx.metrics, ctx.champion_metrics, ctx.champion_version)
        ]


class SignatureGate(_SimpleGate):
    name = "signature"

    def check_config(self, site: SpecSite, keys: Keys, spec: Any) -> Any:
        if not isinstance(spec, bool):
            raise site.error(keys, "must be true or false")
        return spec

    def run(self, ctx: GateContext, spec: Any) -> list[GateResult]:
        if not spec:
            return []
        return [technical.signature_gate(ctx.candidate, ctx.champion_model)]


class LatencyGate(_SimpleGate):
    name = "latency"

    def check_config(self, site: SpecSite, keys: Keys, spec: Any) -> Any:
        spec = site.mapping(keys, spec)
        site.number(keys + ["p95_ms"], spec.get("p95_ms"), 0)
        spec.setdefault("n", 200)
        site.number(keys + ["n"], spec["n"], 10, 100_000)
        return spec

    def run(self, ctx: GateContext, spec: Any) -> list[GateResult]:
        data = ctx.data or _example_data(ctx.candidate)
        return [technical.latency_gate(spec, ctx.candidate, data)]


class SizeGate(_SimpleGate):
    name = "size"

    def check_config(self, site: SpecSite, keys: Keys, spec: Any) -> Any:
        spec = site.mapping(keys, spec)
        site.number(keys + ["max_mb"], spec.get("max_mb"), 0)
        return spec

    def run(self, ctx: GateContext, spec: Any) -> list[GateResult]:
        return [technical.size_gate(spec, ctx.folder)]


class BusinessGate(_SimpleGate):
    name, kind, needs_evaluation = "business", "business", True

    def check_config(self, site: SpecSite, keys: Keys, spec: Any) -> Any:
        spec = site.mapping(keys, spec)
        notebook = spec.get("notebook")
        if not isinstance(notebook, str) or not notebook.endswith(".ipynb"):
            raise site.error(keys + ["notebook"], "must name a .ipynb file")
        ws = site.ws
        if not (ws.root / notebook).is_file() or not ws.contains(ws.root / notebook):
            raise site.error(keys + ["notebook"], f"no notebook {notebook!r} in the project")
        site.mapping(keys + ["parameters"], spec.get("parameters"))
        return spec

    def run(self, ctx: GateContext, spec: Any) -> list[GateResult]:
        assert ctx.data is not None  # needs_evaluation: the data is loaded before gates run
        result, executed = business.business_gate(
            ctx.ws,
            spec,
            model_uri=ctx.folder.as_uri(),
            model=ctx.model,
            version=ctx.version,
            data=ctx.data,
            target=ctx.policy.evaluation["target"],
            work_dir=ctx.work,
        )
        if executed is not None:
            ctx.artifacts["business_notebook"] = str(executed)
        return [result]


class FairnessGate(_SimpleGate):
    name, kind, needs_evaluation = "fairness", "responsible", True

    def check_config(self, site: SpecSite, keys: Keys, spec: Any) -> Any:
        spec = site.mapping(keys, spec)
        if not isinstance(spec.get("sensitive"), str):
            raise site.error(keys + ["sensitive"], "must name the sensitive feature column")
        spec.setdefault("metric", "accuracy")
        if spec["metric"] not in FAIRNESS_METRICS:
            raise site.error(keys + ["metric"], f"must be {', '.join(FAIRNESS_METRICS)}")
        site.number(keys + ["max_disparity"], spec.get("max_disparity"), 0, 1)
        if "bins" in spec:
            site.number(keys + ["bins"], spec["bins"], 2, 100)
        return spec

    def run(self, ctx: GateContext, spec: Any) -> list[GateResult]:
        assert ctx.data is not None  # needs_evaluation: the data is loaded before gates run
        result, chart = responsible.fairness_gate(spec, ctx.data, ctx.y_pred, ctx.work)
        if chart:
            ctx.artifacts["fairness"] = str(chart)
        return [result]


class ImportanceGate(_SimpleGate):
    name, kind, needs_evaluation = "importance", "responsible", True

    def check_config(self, site: SpecSite, keys: Keys, spec: Any) -> Any:
        spec = site.mapping(keys, spec)
        spec.setdefault("top", 5)
        site.number(keys + ["top"], spec["top"], 1, 1000)
        if not isinstance(spec.setdefault("forbid", []), list):
            raise site.error(keys + ["forbid"], "must be a list of column names")
        return spec

    def run(self, ctx: GateContext, spec: Any) -> list[GateResult]:
        declared = next(iter(ctx.policy.gates.get("metrics", {})), None)
        metric = declared or ("accuracy" if "accuracy" in ctx.metrics else "r2")
        assert ctx.data is not None  # needs_evaluation: the data is loaded before gates run
        result, chart = responsible.importance_gate(spec, ctx.candidate, ctx.data, metric, ctx.work)
        if chart:
            ctx.artifacts["importance"] = str(chart)
        return [result]


def _example_data(model: Any) -> EvaluationData:
    example = model.input_example
    if example is None:
        raise ConfigError("the latency gate needs evaluation data or an input example")
    return EvaluationData(example, None, "input example", "")


BUILTIN_GATES = (
    MetricsGate(),
    ChampionGate(),
    SignatureGate(),
    LatencyGate(),
    SizeGate(),
    BusinessGate(),
    FairnessGate(),
    ImportanceGate(),
)
