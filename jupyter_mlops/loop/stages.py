"""The stages of a cycle, in order: build, register, validate, staging, canary, watch, champion.

Each stage calls the function a person calls (``pipeline.build.build``, ``release.registration.register``,
``release.validation.validate``, ``release.rollout.promote``, the canary guard's ``judge`` and
``roll_back_canary``, ``release.approvals``): there is no second release path. A stage answers ``done``, ``skipped``
or ``wait`` (come back next round: an approval not given yet, a canary still under watch, another
build holding the workspace), or raises ``CycleStop`` with the outcome and the reason (a gate
failed, an approver said no, the guard rolled the canary back, nothing new was built).

Stages are safe to run again after a restart: the build answers from its cache, a run already
registered is found instead of registered twice, and a promotion already made is a no-op.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import Conflict
from ..monitor.guard import CanaryVerdict, judge, roll_back_canary
from ..monitor.predlog import scan_predictions
from ..monitor.thresholds import load_monitor_config
from ..pipeline.build import build
from ..pipeline.progress import OK_STATES
from ..release import history
from ..release.approvals import approval_of, request_approval
from ..release.policy import ReleasePolicy, load_policy
from ..release.registration import get_version, register
from ..release.rollout import demote_canary, promote, state
from ..release.validation import validate
from ..store.gateway import Gateway
from ..tags import BEST_RUN_ID_TAG
from .cycle import Cycle, StageRecord


class CycleStop(Exception):
    """The cycle ends here: ``outcome`` (stopped, unchanged...) and why, in one line."""

    def __init__(self, outcome: str, note: str) -> None:
        super().__init__(note)
        self.outcome, self.note = outcome, note


@dataclass
class CycleContext:
    """What the stages share: MLflow, the model, who acts, and how to tell what happens."""

    gw: Gateway
    model: str
    actor: str
    say: Callable[[str], None]
    now: Callable[[], float] = time.time

    def reason(self, cycle: Cycle) -> str:
        """The reason recorded with each release action of the cycle."""
        return f"loop cycle {cycle.run_id[:8]} ({cycle.trigger}): {cycle.reason}"[:1900]

    def policy(self) -> ReleasePolicy:
        return load_policy(self.gw.ws)


StageResult = str  # done | skipped | wait
Stage = Callable[[CycleContext, Cycle, StageRecord], StageResult]


def build_stage(ctx: CycleContext, cycle: Cycle, record: StageRecord) -> StageResult:
    steps = list(cycle.plan.steps) or None
    try:
        report = build(steps, workspace=ctx.gw.ws, progress=False, wait=True)
    except Conflict as exc:  # a person's build holds the workspace: the next round tries again
        record.note = f"waiting: {exc.message}"
        return "wait"
    cycle.build_run = report.pipeline_run_id
    record.detail = {
        "runs": {s.name: s.run_id for s in report.steps if s.run_id},
        "order": [s.name for s in report.steps],
    }
    bad = [s for s in report.steps if s.status not in OK_STATES]
    if bad:
        raise CycleStop(
            "stopped", f"build failed: step {bad[0].name} {bad[0].status}: {bad[0].reason}"
        )
    ran = [s.name for s in report.steps if s.status == "ran"]
    cached = [s.name for s in report.steps if s.status == "cached"]
    parts = [
        f"ran {', '.join(ran)}" if ran else "",
        f"cached {', '.join(cached)}" if cached else "",
    ]
    record.note = "; ".join(p for p in parts if p) + f" ({report.duration:.0f} s)"
    return "done"


def _runs_with_model(gw: Gateway, root_id: str) -> list[Any]:
    """``root_id`` and its child runs that logged a model, newest first."""
    client = gw.client
    root = client.get_run(root_id)
    children = client.search_runs(
        [root.info.experiment_id],
        filter_string=f"tags.`mlflow.parentRunId` = '{root_id}'",
        order_by=["attributes.start_time DESC"],
        max_results=100,
    )
    return [r for r in [root, *children] if r.outputs and r.outputs.model_outputs]


def model_run(gw: Gateway, runs: dict[str, str], order: list[str], step: str | None) -> str:
    """The best run of the build that logged a model: of ``step`` (default: the last step
    whose runs logged one), its sweep's best trial when it is a sweep."""
    candidates = [step] if step else list(reversed(order))
    for name in candidates:
        run_id = runs.get(name)
        if not run_id:
            continue
        best = gw.client.get_run(run_id).data.tags.get(BEST_RUN_ID_TAG)
        found = _runs_with_model(gw, best or run_id)
        if found:
            return str(found[0].info.run_id)
    which = f"step {step}" if step else "no step of the build"
    raise CycleStop("stopped", f"nothing to register: {which} logged a model")


def _version_of_run(gw: Gateway, model: str, run_id: str) -> str | None:
    found = gw.client.search_model_versions(f"name = '{model}' and run_id = '{run_id}'")
    return str(max(int(mv.version) for mv in found)) if found else None


def register_stage(ctx: CycleContext, cycle: Cycle, record: StageRecord) -> StageResult:
    built = cycle.stage("build")
    detail = built.detail if built is not None else {}
    run_id = model_run(ctx.gw, detail.get("runs", {}), detail.get("order", []), cycle.plan.register)
    version = _version_of_run(ctx.gw, ctx.model, run_id)
    if version is None:
        mv = register(ctx.gw, run_id, ctx.model, actor=ctx.actor, reason=ctx.reason(cycle))
        version = str(mv.version)
        record.note = f"v{version} from run {run_id[:8]}"
    else:
        record.note = f"run {run_id[:8]} is already v{version}"
    cycle.version = version
    champion = state(ctx.gw, ctx.model).aliases.get("champion")
    if champion == version:
        raise CycleStop(
            "unchanged", f"v{version} (run {run_id[:8]}) is already the champion: nothing new"
        )
    return "done"


def validate_stage(ctx: CycleContext, cycle: Cycle, record: StageRecord) -> StageResult:
    assert cycle.version is not None
    report = validate(ctx.gw, ctx.model, cycle.version, reason=ctx.reason(cycle), actor=ctx.actor)
    record.detail = {"gate_run": report.run_id, "failed": [r.gate for r in report.failed]}
    if not report.passed:
        why = "; ".join(f"{r.gate}: {r.reason}" for r in report.failed)
        raise CycleStop("stopped", f"gates failed: {why}")
    record.note = f"{len(report.results)} gate results passed"
    return "done"


def _approved(ctx: CycleContext, cycle: Cycle, record: StageRecord, alias: str) -> bool:
    """True once ``alias`` may move: unprotected, or approved. Asks (once) and waits otherwise;
    a rejection stops the cycle and takes its canary out of traffic."""
    policy = ctx.policy()
    rule = policy.approval_rule(alias)
    if rule is None:
        return True
    assert cycle.version is not None
    approval = approval_of(get_version(ctx.gw, ctx.model, cycle.version), alias)
    if approval is not None and approval.state == "approved":
        record.detail["approved_by"] = approval.decided_by
        return True
    if approval is not None and approval.state == "rejected":
        why = f"{alias} rejected by {approval.decided_by}" + (
            f": {approval.comment}" if approval.comment else ""
        )
        if state(ctx.gw, ctx.model).aliases.get("canary") == cycle.version:
            demote_canary(
                ctx.gw, ctx.model, reason=why, actor=ctx.actor, only_version=cycle.version
            )
        raise CycleStop("stopped", why)
    if approval is None or approval.cycle != cycle.run_id:
        request_approval(
            ctx.gw,
            ctx.model,
            cycle.version,
            alias,
            actor=ctx.actor,
            comment=ctx.reason(cycle),
            cycle=cycle.run_id,
            policy=policy,
        )
        ctx.say(
            f"{ctx.model} v{cycle.version} waits for an approval for {alias}: "
            f"jupyter-mlops approve {ctx.model} {cycle.version}"
        )
    who = ", ".join(rule.approvers) or "anyone"
    record.note = f"waiting for an approval ({who})"
    return False


def _promotion(alias: str) -> Stage:
    def stage(ctx: CycleContext, cycle: Cycle, record: StageRecord) -> StageResult:
        assert cycle.version is not None
        if alias not in cycle.plan.promote:
            record.note = "not in loop.cycle.promote"
            return "skipped"
        v = cycle.version
        aliases = state(ctx.gw, ctx.model).aliases
        if alias == "canary" and aliases.get("champion") is None:
            record.note = "no champion yet: no canary to compare with"
            return "skipped"
        if not _approved(ctx, cycle, record, alias):
            return "wait"
        if aliases.get(alias) != v:
            weight = cycle.plan.canary_weight if alias == "canary" else None
            promote(
                ctx.gw, ctx.model, v, alias, weight=weight, reason=ctx.reason(cycle),
                actor=ctx.actor,
            )  # fmt: skip
        record.note = f"v{v} is {alias}"
        if alias == "canary":
            weight = state(ctx.gw, ctx.model).canary_weight
            record.detail["weight"] = weight
            record.note += f" at {weight:g}% of traffic"
        return "done"

    return stage


def _canary_verdict(ctx: CycleContext, since: float, canary: str) -> CanaryVerdict:
    """The guard's verdict on the canary's traffic since it went in (not on traffic an earlier
    rollout of the same version had), and its rollback when the verdict says so."""
    aliases = state(ctx.gw, ctx.model).aliases
    thresholds = load_monitor_config(ctx.gw.ws).canary
    now = ctx.now()
    table = scan_predictions(ctx.gw, ctx.model, since=since, until=now + 1).table
    verdict = judge(ctx.model, table, canary, aliases.get("champion"), thresholds)
    if verdict.decision == "rollback":
        reason = "canary guard: " + "; ".join(verdict.reasons)
        verdict.acted = roll_back_canary(ctx.gw, ctx.model, canary, reason, verdict.champion)
    return verdict


def watch_stage(ctx: CycleContext, cycle: Cycle, record: StageRecord) -> StageResult:
    """The canary under the guard for ``plan.watch`` seconds, kept only on a ``keep`` verdict."""
    canary = cycle.stage("canary")
    if canary is None or canary.status != "done":
        record.note = "no canary to watch"
        return "skipped"
    if "champion" not in cycle.plan.promote:
        record.note = "the cycle ends with the canary"
        return "skipped"
    v = cycle.version
    assert v is not None and canary.ended is not None
    if state(ctx.gw, ctx.model).aliases.get("canary") != v:
        trail = [e for e in history.events(ctx.gw, ctx.model) if e.version == v]
        last = next((e for e in reversed(trail) if e.action == "rollback"), None)
        why = f" by {last.actor}: {last.reason}" if last is not None else ""
        raise CycleStop("stopped", f"canary v{v} was taken out of traffic{why}")
    verdict = _canary_verdict(ctx, canary.ended, v)
    reasons = "; ".join(verdict.reasons)
    if verdict.decision == "rollback":
        raise CycleStop("stopped", f"the canary guard rolled v{v} back: {reasons}")
    if verdict.decision == "alert":
        raise CycleStop("stopped", f"the canary is worse than the champion: {reasons}")
    elapsed = ctx.now() - record.started
    record.detail["verdict"] = verdict.decision
    if elapsed < cycle.plan.watch:
        record.note = f"guarding the canary ({elapsed:.0f} of {cycle.plan.watch:g} s)"
        return "wait"
    if verdict.decision != "keep":
        record.note = f"watched {elapsed:.0f} s; waiting for traffic: {reasons}"
        return "wait"
    record.note = f"canary kept after {elapsed:.0f} s under the guard"
    return "done"


STAGE_RUNNERS: dict[str, Stage] = {
    "build": build_stage,
    "register": register_stage,
    "validate": validate_stage,
    "staging": _promotion("staging"),
    "canary": _promotion("canary"),
    "watch": watch_stage,
    "champion": _promotion("champion"),
}
