"""``validate``: run every gate of the release policy on one version and record the verdict.

Results land in three places, so that nothing depends on one of them surviving: a gate run
(``mlops.kind=gate``: metrics, params, ``gates.json``, charts, the executed business notebook),
tags on the model version (``mlops.gates`` = passed|failed, one ``mlops.gate.<name>`` per gate,
``mlops.gate_run_id``) which promotion reads, and the release history.
"""

from __future__ import annotations

import json
import time
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, MlopsError
from ..journal.events import GATE_VERDICT, emit
from ..limits import LINE_TEXT, LIST_TEXT
from ..tags import (
    ACTOR_TAG,
    EVAL_DIGEST_TAG,
    KIND_TAG,
    MODEL_TAG,
    MODEL_VERSION_TAG,
    gate_tag,
    metric_tag,
)
from . import card, history
from .gates import technical
from .gates.evaluation import load_evaluation
from .gates.protocol import Gate, GateContext
from .gates.registry import release_gates
from .gates.result import GateReport, GateResult
from .permissions import require
from .policy import ReleasePolicy, load_policy
from .registered_model import T_GATE_RUN, T_GATES, get_registered_model
from .registration import resolve
from .signing import verified_files

if TYPE_CHECKING:
    from ..store.gateway import Gateway

# always scored when there is evaluation data, so the card and a later champion can compare
DEFAULT_METRICS = ("accuracy", "f1", "r2", "rmse")


def _run_guarded(gate: Gate, ctx: GateContext, spec: Any) -> list[GateResult]:
    """Run one gate; an error inside it is that gate's failure, never a crash of the others."""
    try:
        return gate.run(ctx, spec)
    except MlopsError as exc:
        reason = f"error: {exc.message}"
    except Exception as exc:
        reason = f"error: {type(exc).__name__}: {exc}"
    return [GateResult(gate.name, gate.kind, False, None, None, reason)]


def validate(
    gw: Gateway,
    model: str,
    version: str | int,
    *,
    reason: str | None = None,
    actor: str | None = None,
    policy: ReleasePolicy | None = None,
    write_card: bool = True,
) -> GateReport:
    require(gw, model.split("@")[0], "EDIT", f"validate {model} {version}")
    policy = policy or load_policy(gw.ws)
    if not policy.gates:
        raise ConfigError(
            "no release gates declared",
            path=str(gw.ws.config_path),
            key="release.gates",
            hint="declare at least one gate (metrics, champion, latency, ...) under release.gates",
        )
    results: list[GateResult] = []
    with ExitStack() as files:  # the models' files, kept while the gates run
        ctx = _context(gw, policy, resolve(gw, model, version), files)
        for gate in release_gates.in_order(policy.gates):
            results += _run_guarded(gate, ctx, policy.gates[gate.name])
    data = ctx.data
    evaluation = (
        {"name": data.name, "digest": data.digest, "rows": len(data.X)} if data is not None else {}
    )
    report = GateReport(
        model,
        ctx.version,
        results,
        evaluation=evaluation,
        artifacts=ctx.artifacts,
        metrics=ctx.metrics,
        champion={"version": ctx.champion_version, "metrics": ctx.champion_metrics},
    )
    _record(gw, report, ctx.work, reason=reason, actor=actor)
    if write_card:
        card.write_card(gw, model, ctx.version, report=report)
    return report


def _context(gw: Gateway, policy: ReleasePolicy, mv: Any, files: ExitStack) -> GateContext:
    """Load the candidate, the evaluation data and the champion once, for every gate to read."""
    import mlflow.pyfunc

    model, version = mv.name, str(mv.version)
    folder = files.enter_context(
        verified_files(gw, model, version)
    ).folder  # a changed file is refused here
    candidate = mlflow.pyfunc.load_model(str(folder))
    schema = candidate.metadata.get_input_schema()
    features = schema.input_names() if schema is not None and schema.has_input_names() else None
    ws = gw.ws
    work = ws.subdir("gates") / f"{model}-v{version}-{int(time.time() * 1000)}"
    work.mkdir(parents=True, exist_ok=True)
    ctx = GateContext(gw, model, version, policy, candidate, folder, work)
    ctx.data = load_evaluation(gw, policy.evaluation, features) if policy.evaluation else None
    metric_names = set(DEFAULT_METRICS)
    for gate in release_gates.in_order(policy.gates):
        metric_names |= gate.metrics_needed(policy.gates[gate.name])
    if ctx.data is not None:
        ctx.y_pred = candidate.predict(ctx.data.X)
        ctx.metrics = technical.evaluate_metrics(sorted(metric_names), ctx.data.y, ctx.y_pred)
    champion = dict(get_registered_model(gw, model).aliases).get("champion")
    if champion is not None and str(champion) != version:
        champ_mv = resolve(gw, f"{model}@champion")
        ctx.champion_version = str(champ_mv.version)
        champ_folder = files.enter_context(verified_files(gw, model, champ_mv.version)).folder
        ctx.champion_model = mlflow.pyfunc.load_model(str(champ_folder))
        if ctx.data is not None:
            predicted = ctx.champion_model.predict(ctx.data.X)
            ctx.champion_metrics = technical.evaluate_metrics(
                sorted(metric_names), ctx.data.y, predicted
            )
    return ctx


def _record(
    gw: Gateway, report: GateReport, work: Path, *, reason: str | None, actor: str | None
) -> None:
    from mlflow.entities import Metric, Param

    client = gw.client
    verdict = "passed" if report.passed else "failed"
    run = client.create_run(
        gw.experiment_id(),
        run_name=f"gate-{report.model}-v{report.version}",
        tags={
            KIND_TAG: "gate",
            MODEL_TAG: report.model,
            MODEL_VERSION_TAG: report.version,
            T_GATES: verdict,
            ACTOR_TAG: gw.actor(actor),
            **({EVAL_DIGEST_TAG: report.evaluation["digest"]} if report.evaluation else {}),
        },
    )
    run_id = run.info.run_id
    report.run_id = run_id
    now = int(time.time() * 1000)
    metrics = [Metric(f"eval.{k}", float(v), now, 0) for k, v in report.metrics.items()]
    for r in report.results:
        if isinstance(r.value, (int, float)) and not isinstance(r.value, bool):
            metrics.append(Metric(f"gate.{r.gate}", float(r.value), now, 0))
        metrics.append(Metric(f"gate.{r.gate}.passed", 1.0 if r.passed else 0.0, now, 0))
        for k, v in (r.details.get("kpis") or {}).items():
            metrics.append(Metric(f"kpi.{k}", float(v), now, 0))
    params = [
        Param(f"threshold.{r.gate}", str(r.threshold)[:LINE_TEXT])
        for r in report.results
        if r.threshold is not None
    ]
    client.log_batch(run_id, metrics=metrics, params=params)
    (work / "gates.json").write_text(
        json.dumps(
            {
                "model": report.model,
                "version": report.version,
                "passed": report.passed,
                "evaluation": report.evaluation,
                "metrics": report.metrics,
                "champion": report.champion,
                "results": [r.to_dict() for r in report.results],
            },
            indent=1,
            default=str,
        )
    )
    client.log_artifact(run_id, str(work / "gates.json"), "gates")
    for path in report.artifacts.values():
        client.log_artifact(run_id, path, "gates")
    client.set_terminated(run_id, "FINISHED")
    name, v = report.model, report.version
    for r in report.results:
        client.set_model_version_tag(
            name, v, gate_tag(r.gate), f"{r.verdict}: {r.reason}"[:LIST_TEXT]
        )
    for k, val in report.metrics.items():
        client.set_model_version_tag(name, v, metric_tag(k), f"{val:.6g}")
    client.set_model_version_tag(name, v, T_GATE_RUN, run_id)
    client.set_model_version_tag(name, v, T_GATES, verdict)  # last: promotion reads this one
    entry = history.record(
        gw,
        name,
        "gate",
        version=v,
        actor=actor,
        reason=reason,
        verdict=verdict,
        failed=",".join(r.gate for r in report.failed) or None,
        run=run_id,
    )
    payload = {
        "version": v,
        "verdict": verdict,
        "failed": [r.gate for r in report.failed],
        "reasons": {r.gate: r.reason for r in report.failed},
        "gate_run_id": run_id,
        "metrics": report.metrics,
        "reason": reason,
    }
    emit(gw.ws, GATE_VERDICT, model=name, payload=payload, actor=entry.actor, key=(run_id,))
