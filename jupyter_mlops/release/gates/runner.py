"""``validate``: run every gate of the release policy on one version and record the verdict.

Results land in three places, so that nothing depends on one of them surviving: a gate run
(``mlops.kind=gate``: metrics, params, ``gates.json``, charts, the executed business notebook),
tags on the model version (``mlops.gates`` = passed|failed, one ``mlops.gate.<name>`` per gate,
``mlops.gate_run_id``) which promotion reads, and the release history.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from ...errors import ConfigError, MlopsError
from ...workspace import Workspace
from .. import history
from ..policy import KNOWN_METRICS, ReleasePolicy, load_policy
from ..registry import T_GATE_RUN, T_GATES, resolve, version_location
from .result import GateReport, GateResult


def model_dir(ws: Workspace, mv: Any) -> Path:
    """A local folder with the version's files (in place for the embedded store)."""
    loc = version_location(ws, mv)
    if loc.local_path is not None:
        return loc.local_path
    from mlflow.artifacts import download_artifacts

    dst = ws.subdir("serving") / mv.name / str(mv.version)
    return Path(
        download_artifacts(artifact_uri=loc.uri, dst_path=str(dst), tracking_uri=ws.tracking_uri)
    )


def _guarded(name: str, kind: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Run one gate; an error inside it is that gate's failure, never a crash of the others."""
    try:
        return fn(*args, **kwargs)
    except MlopsError as exc:
        return GateResult(name, kind, False, None, None, f"error: {exc.message}")
    except Exception as exc:
        return GateResult(name, kind, False, None, None, f"error: {type(exc).__name__}: {exc}")


def validate(
    ws: Workspace,
    model: str,
    version: str | int,
    *,
    reason: str | None = None,
    actor: str | None = None,
    policy: ReleasePolicy | None = None,
    write_card: bool = True,
) -> GateReport:
    import mlflow.pyfunc

    from . import business, responsible, technical
    from .evaluation import load_evaluation

    policy = policy or load_policy(ws)
    gates = policy.gates
    if not gates:
        raise ConfigError(
            "no release gates declared",
            path=str(ws.config_path),
            key="release.gates",
            hint="declare at least one gate (metrics, champion, latency, ...) under release.gates",
        )
    mv = resolve(ws, model, version)
    version = str(mv.version)
    folder = model_dir(ws, mv)
    candidate = mlflow.pyfunc.load_model(str(folder))
    schema = candidate.metadata.get_input_schema()
    features = schema.input_names() if schema is not None and schema.has_input_names() else None
    work = ws.subdir("gates") / f"{model}-v{version}-{int(time.time() * 1000)}"
    work.mkdir(parents=True, exist_ok=True)
    results: list[GateResult] = []
    charts: dict[str, str] = {}
    data = load_evaluation(ws, policy.evaluation, features) if policy.evaluation else None
    metric_names = set(gates.get("metrics", {}))
    if "champion" in gates:
        metric_names.add(gates["champion"]["metric"])
    metric_names |= {m for m in KNOWN_METRICS if m in ("accuracy", "f1", "r2", "rmse")}
    cand_metrics: dict[str, float] = {}
    y_pred = None
    if data is not None:
        y_pred = candidate.predict(data.X)
        cand_metrics = technical.evaluate_metrics(sorted(metric_names), data.y, y_pred)
    # the champion, when there is one other than this version
    champ_mv = champ_model = champ_metrics = None
    aliases = {k: str(v) for k, v in _aliases(ws, model).items()}
    if aliases.get("champion") and aliases["champion"] != version:
        champ_mv = resolve(ws, f"{model}@champion")
        champ_model = mlflow.pyfunc.load_model(str(model_dir(ws, champ_mv)))
        if data is not None:
            champ_metrics = technical.evaluate_metrics(
                sorted(metric_names), data.y, champ_model.predict(data.X)
            )
    if "metrics" in gates:
        missing = [m for m in gates["metrics"] if m not in cand_metrics]
        for m in missing:
            results.append(
                GateResult(
                    f"metrics.{m}",
                    "technical",
                    False,
                    None,
                    None,
                    f"{m} cannot be computed on this target",
                )
            )
        results += technical.metric_gates(
            {k: v for k, v in gates["metrics"].items() if k in cand_metrics}, cand_metrics
        )
    if "champion" in gates:
        results.append(
            _guarded(
                "champion",
                "technical",
                technical.champion_gate,
                gates["champion"],
                cand_metrics,
                champ_metrics,
                champ_mv and str(champ_mv.version),
            )
        )
    if gates.get("signature"):
        results.append(
            _guarded("signature", "technical", technical.signature_gate, candidate, champ_model)
        )
    if "latency" in gates:
        results.append(
            _guarded(
                "latency",
                "technical",
                technical.latency_gate,
                gates["latency"],
                candidate,
                data or _example_data(candidate),
            )
        )
    if "size" in gates:
        results.append(_guarded("size", "technical", technical.size_gate, gates["size"], folder))
    if "business" in gates:
        out = _guarded(
            "business",
            "business",
            business.business_gate,
            ws,
            gates["business"],
            model_uri=folder.as_uri(),
            model=model,
            version=version,
            data=data,
            target=policy.evaluation["target"],
            work_dir=work,
        )
        res, nb = out if isinstance(out, tuple) else (out, None)
        results.append(res)
        if nb is not None:
            charts["business_notebook"] = str(nb)
    if "fairness" in gates:
        out = _guarded(
            "fairness",
            "responsible",
            responsible.fairness_gate,
            gates["fairness"],
            data,
            y_pred,
            work,
        )
        res, chart = out if isinstance(out, tuple) else (out, None)
        results.append(res)
        if chart:
            charts["fairness"] = str(chart)
    if "importance" in gates:
        metric = next(iter(gates.get("metrics", {})), None) or (
            "accuracy" if "accuracy" in cand_metrics else "r2"
        )
        out = _guarded(
            "importance",
            "responsible",
            responsible.importance_gate,
            gates["importance"],
            candidate,
            data,
            metric,
            work,
        )
        res, chart = out if isinstance(out, tuple) else (out, None)
        results.append(res)
        if chart:
            charts["importance"] = str(chart)
    evaluation = (
        {"name": data.name, "digest": data.digest, "rows": len(data.X)} if data is not None else {}
    )
    report = GateReport(
        model,
        version,
        results,
        evaluation=evaluation,
        artifacts=charts,
        metrics=cand_metrics,
        champion={"version": champ_mv and str(champ_mv.version), "metrics": champ_metrics},
    )
    _record(ws, report, work, reason=reason, actor=actor)
    if write_card:
        from ..card import write_card as _write_card

        _write_card(ws, model, version, report=report)
    return report


def _aliases(ws: Workspace, model: str) -> dict[str, Any]:
    from ..registry import get_registered_model

    return dict(get_registered_model(ws, model).aliases)


def _example_data(model: Any) -> Any:
    from .evaluation import EvaluationData

    example = model.input_example
    if example is None:
        raise ConfigError("the latency gate needs evaluation data or an input example")
    return EvaluationData(example, None, "input example", "")


def _record(
    ws: Workspace, report: GateReport, work: Path, *, reason: str | None, actor: str | None
) -> None:
    from mlflow.entities import Metric, Param

    from ...store.client import client_for, experiment_id

    client = client_for(ws)
    verdict = "passed" if report.passed else "failed"
    run = client.create_run(
        experiment_id(ws),
        run_name=f"gate-{report.model}-v{report.version}",
        tags={
            "mlops.kind": "gate",
            "mlops.model": report.model,
            "mlops.model_version": report.version,
            T_GATES: verdict,
            "mlops.actor": history.current_actor(actor),
            **({"mlops.eval_digest": report.evaluation["digest"]} if report.evaluation else {}),
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
        Param(f"threshold.{r.gate}", str(r.threshold)[:500])
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
            name, v, f"mlops.gate.{r.gate}", f"{r.verdict}: {r.reason}"[:4900]
        )
    for k, val in report.metrics.items():
        client.set_model_version_tag(name, v, f"mlops.metric.{k}", f"{val:.6g}")
    client.set_model_version_tag(name, v, T_GATE_RUN, run_id)
    client.set_model_version_tag(name, v, T_GATES, verdict)  # last: promotion reads this one
    history.record(
        ws,
        name,
        "gate",
        version=v,
        actor=actor,
        reason=reason,
        verdict=verdict,
        failed=",".join(r.gate for r in report.failed) or None,
        run=run_id,
    )
