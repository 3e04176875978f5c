"""``build``: the one implementation behind ``jupyter-mlops build``, ``%mlops build`` and Python.

An unchanged pipeline is answered from ``.mlops/cache`` without importing MLflow or papermill
(and without creating a run: nothing happened), so a no-op rebuild costs a fraction of a second.
Anything else takes the workspace's build lock, opens one pipeline run and hands the work to the
scheduler.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ..errors import ConfigError, InvalidInput
from ..locks import exclusive
from ..store.gateway import Gateway, gateway_for
from ..workspace import Workspace
from .cache import CacheIndex, environment_hash
from .executor_dask import DaskExecutor
from .executor_local import LocalExecutor
from .graph import closure, topological_order
from .plan import Planner, StepPlan
from .progress import BuildProgress, BuildReport, StepReport, key_metric
from .records import flush
from .scheduler import Scheduler
from .spec import load_spec
from .sweep import planned_executions

if TYPE_CHECKING:
    from .spec import PipelineSpec

EXECUTORS = ("local", "dask")


def _cached_report(plan: StepPlan) -> StepReport:
    entry = plan.entry or {}
    metrics = entry.get("metrics", {})
    return StepReport(
        plan.step.name,
        "cached",
        "unchanged",
        entry.get("run_id"),
        0.0,
        key_metric(plan.step, metrics),
        metrics=metrics,
    )


def _dry_report(plan: StepPlan) -> StepReport:
    if plan.action == "cached":
        report = _cached_report(plan)
        report.status = "up to date"
        return report
    return StepReport(plan.step.name, "would run", plan.reason)


def make_executor(
    executor: str, jobs: int | None, scheduler: str | None
) -> LocalExecutor | DaskExecutor:
    if executor == "local":
        if scheduler:
            raise InvalidInput("--scheduler needs --executor dask")

        return LocalExecutor(jobs)
    if executor == "dask":
        return DaskExecutor(scheduler, jobs)
    raise InvalidInput(f"unknown executor {executor!r}", hint=f"one of: {', '.join(EXECUTORS)}")


def build(
    steps: Iterable[str] | str | None = None,
    *,
    workspace: Workspace | None = None,
    force: bool = False,
    jobs: int | None = None,
    executor: str = "local",
    scheduler: str | None = None,
    dry_run: bool = False,
    progress: bool = True,
    wait: bool = False,
    only: str | None = None,
    trial: int | None = None,
) -> BuildReport:
    """Build the pipeline in mlops.yaml (or the named steps and what they need).

    Unchanged steps are cache hits (their outputs restored, their producing run linked); the rest
    run through papermill as tracked runs under one pipeline run. ``dry_run`` only says what would
    run and which part of each key changed.

    Runs are recorded like tracked cells: journaled locally as the build goes and sent to MLflow
    in the background (while the next kernels run), so MLflow costs a step next to nothing.
    ``wait=True`` returns only once every record is in MLflow; otherwise they land moments
    later (the CLI flushes them before it exits).

    ``only`` builds exactly that step: what it needs must be cache hits (built here, or by
    anyone on the team server), never rebuilt, which is how a workflow engine runs one step per
    task. ``trial`` (with ``only``) runs just that trial of the step's sweep; the build of the
    step itself then reuses every trial that finished, wherever it ran.
    """
    started = time.perf_counter()
    if isinstance(steps, str):
        steps = [steps]
    if jobs is not None and jobs < 1:
        raise InvalidInput(f"jobs must be at least 1, got {jobs}")
    if executor not in EXECUTORS:
        raise InvalidInput(f"unknown executor {executor!r}", hint=f"one of: {', '.join(EXECUTORS)}")
    gw = gateway_for(workspace or Workspace.find())
    ws = gw.ws
    if trial is not None and only is None:
        raise InvalidInput("--trial needs --only STEP", hint="e.g. build --only train --trial 0")
    if only is not None:
        if steps:
            raise InvalidInput("give STEP names or --only STEP, not both")
        steps = [only]
    spec = load_spec(ws)
    if not spec.steps:
        raise ConfigError(
            "mlops.yaml declares no steps",
            path=spec.path,
            key="steps",
            hint="add a `steps:` section naming notebooks",
        )
    needs = {n: list(s.needs) for n, s in spec.steps.items()}
    order = topological_order(needs, closure(needs, list(steps or [])))
    cache = CacheIndex(ws)
    planner = Planner(gw, spec, cache, environment_hash(cache.dir), force)
    if dry_run:
        plans = planner.plan_all(order)
        cache.save()
        return BuildReport(
            [_dry_report(p) for p in plans], None, time.perf_counter() - started, dry_run=True
        )
    ws.ensure_state_dir()
    with exclusive(ws.subdir("locks") / "build.lock", what="a build of this workspace"):
        _forget_stale_tmp(ws, killed_builds=True)
        plans = planner.plan_all(order)
        if only is not None:
            _needs_are_built(plans, only, trial, spec)
        if all(p.action == "cached" for p in plans):
            for plan in plans:
                cache.restore_outputs(plan.entry or {})
            cache.save()
            return BuildReport(
                [_cached_report(p) for p in plans], None, time.perf_counter() - started
            )
        for plan in plans:
            if plan.action != "cached":
                planner.check_kernel(plan.step)
        report = _run(
            gw,
            spec,
            planner,
            cache,
            order,
            plans,
            (executor, jobs, scheduler),
            progress,
            started,
            (only, trial) if only is not None and trial is not None else None,
        )
    if wait:
        flush(ws)
        report.duration = time.perf_counter() - started
    return report


def _run(
    gw: Gateway,
    spec: PipelineSpec,
    planner: Planner,
    cache: CacheIndex,
    order: list[str],
    plans: list[StepPlan],
    executing: tuple[str, int | None, str | None],
    progress: bool,
    started: float,
    single_trial: tuple[str, int] | None = None,
) -> BuildReport:
    runner = make_executor(*executing)

    # the total is known up front: every step that may run, a sweep with its whole budget
    total = sum(planned_executions(p.step) for p in plans if p.action != "cached")
    if single_trial is not None:
        total = 1
    bar = BuildProgress(total, enabled=progress)
    sched = Scheduler(gw, spec, planner, cache, runner, bar)
    sched.counted = {p.step.name for p in plans if p.action != "cached"}
    sched.single_trial = single_trial
    sched.reuse_trials = planner.shared is not None
    try:
        reports = sched.run(order)
    except KeyboardInterrupt:
        reports = sched.reports
        for name in order:
            reports.setdefault(name, StepReport(name, "killed", "interrupted"))
        raise
    finally:
        _forget_stale_tmp(gw.ws)
    return BuildReport(
        [reports[n] for n in order], sched.pipeline_run_id, time.perf_counter() - started
    )


def _needs_are_built(
    plans: list[StepPlan], only: str, trial: int | None, spec: PipelineSpec
) -> None:
    """``--only STEP``: every step it needs is a cache hit, or a clear error naming the first
    that is not (in a workflow, its own task runs before this one)."""
    for plan in plans:
        if plan.step.name != only and plan.action != "cached":
            raise InvalidInput(
                f"step {only!r} needs {plan.step.name!r}, which is not built "
                f"({plan.reason}): --only builds exactly one step",
                hint=f"build {plan.step.name!r} first (jupyter-mlops build --only "
                f"{plan.step.name}), or build without --only",
            )
    sweep = spec.steps[only].sweep
    if trial is not None:
        if sweep is None:
            raise InvalidInput(f"step {only!r} has no sweep: --trial does not apply")
        if sweep.method == "optuna":
            raise InvalidInput(
                f"step {only!r} sweeps with optuna, which proposes each trial from the finished "
                "ones: its trials run in one build, not one task each",
                hint=f"build --only {only}",
            )
        if trial < 0:
            raise InvalidInput(f"--trial must be 0 or more, got {trial}")


def _forget_stale_tmp(ws: Workspace, *, killed_builds: bool = False) -> None:
    """Remove temporary notebooks of builds that died (only this build's lock holder runs).

    ``killed_builds``: at the start of a build, every notebook still in progress belongs to a
    build that was killed (the lock is ours), so it goes whatever its age."""
    folder = ws.state_dir / "tmp"
    if not folder.is_dir():
        return
    cutoff = time.time() - 3600
    running = folder / "running"
    for entry in [*os.scandir(folder), *(os.scandir(running) if running.is_dir() else [])]:
        try:
            if entry.is_file() and (
                entry.stat().st_mtime < cutoff
                or (killed_builds and os.path.dirname(entry.path) == str(running))
            ):
                os.unlink(entry.path)
        except OSError:
            pass
