"""Running the steps that are not cache hits: dependency order, bounded parallelism, sweeps, faults.

One pipeline run is the parent of one run per executed step; a sweep's trials are children of
their step's run. A step starts when every step it needs has finished (ran or cached); a failure
skips its dependents while the other branches go on, and whatever finished stays cached so the
next build resumes. Ctrl-C kills the running kernels and marks their runs KILLED.
"""

from __future__ import annotations

import json
import time
import uuid
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InvalidInput
from ..limits import ERROR_TEXT
from ..tags import (
    ATTEMPTS_TAG,
    BEST_RUN_ID_TAG,
    BEST_TAG,
    BEST_TRIAL_TAG,
    CACHE_KEY_TAG,
    ENV_HASH_TAG,
    EXECUTOR_TAG,
    JOBS_TAG,
    NOTEBOOK_TAG,
    PRUNED_TAG,
    RUN_REASON_TAG,
    STATUS_TAG,
    STEP_TAG,
    STEPS_TAG,
    SWEEP_KEY_TAG,
    TRIAL_TAG,
    error_tag,
    upstream_tag,
)
from . import records, shared_cache
from .cache import CacheIndex
from .files import write_atomic
from .notebook_task import NotebookResult, NotebookTask, read_step_metrics, running_dir
from .plan import Planner, StepPlan
from .progress import BuildProgress, StepReport, key_metric
from .records import LandedRun, RunHandle
from .running_kernels import kernel_environment
from .spec import PipelineSpec, StepSpec
from .sweep import Sweep, Trial, planned_executions

if TYPE_CHECKING:
    from ..store.gateway import Gateway

FAILED_STATES = ("failed", "skipped", "killed")


@dataclass
class ActiveStep:
    plan: StepPlan
    run: RunHandle
    started: float
    sweep: Sweep | None = None
    in_flight: int = 0
    best: Trial | None = None
    refit: bool = False
    best_key: str | None = None  # journal key of the best trial's run
    trial_metrics: dict[int, dict[str, float]] = field(default_factory=dict)
    single_trial: bool = False  # `build --only STEP --trial N`: this one trial, no sweep
    prior_trials: dict[int, tuple[str, dict[str, float]]] | None = None  # finished elsewhere
    reused: int = 0  # trials told to the sweep from earlier runs

    @property
    def step(self) -> StepSpec:
        return self.plan.step


@dataclass
class InFlight:
    active: ActiveStep
    task: NotebookTask
    run: RunHandle
    trial: Trial | None = None
    pruning: bool = False


def _producing_run(entry: dict[str, Any]) -> tuple[str | None, str | None]:
    """(run id, journal key) of the run holding a step's result: its best trial for a sweep."""
    if entry.get("best_run_id") or entry.get("best_run_key"):
        return entry.get("best_run_id"), entry.get("best_run_key")
    return entry.get("run_id"), entry.get("run_key")


class Scheduler:
    def __init__(
        self,
        gw: Gateway,
        spec: PipelineSpec,
        planner: Planner,
        cache: CacheIndex,
        executor: Any,
        progress: BuildProgress,
    ) -> None:
        self.gw, self.ws, self.spec, self.planner, self.cache = gw, gw.ws, spec, planner, cache
        self.executor, self.progress = executor, progress
        self._said_offline = False
        self.reports: dict[str, StepReport] = {}
        self.entries: dict[str, dict[str, Any]] = {}
        self.active: dict[str, ActiveStep] = {}
        self.inflight: dict[Future[NotebookResult], InFlight] = {}
        self.pipeline: RunHandle | None = None
        self.pipeline_run_id: str | None = None
        self._may_track: dict[str, bool] = {}
        self.counted: set[str] = set()  # steps whose executions the progress total includes
        # (step, trial number): run that one trial of the step's sweep, nothing else of it
        self.single_trial: tuple[str, int] | None = None
        # sweeps reuse trials that finished elsewhere (cluster tasks) on a shared store
        self.reuse_trials = False

    # -- main loop -------------------------------------------------------------------------
    def run(self, order: list[str]) -> dict[str, StepReport]:
        self.order = order
        self.pipeline = records.start_run(
            self.ws,
            name=f"build {self.spec.project}",
            kind="pipeline",
            experiment=self.spec.experiment,
            tags={
                STEPS_TAG: ",".join(order),
                EXECUTOR_TAG: self.executor.name,
                JOBS_TAG: self.executor.jobs,
                ENV_HASH_TAG: self.planner.env_hash,
            },
        )
        status = "FAILED"
        try:
            while True:
                self._start_ready()
                if not self.inflight:
                    break
                done, _ = wait(list(self.inflight), timeout=0.5, return_when=FIRST_COMPLETED)
                for future in done:
                    self._complete(future)
                self._check_pruning()
            status = (
                "FINISHED"
                if all(r.status in ("cached", "ran") for r in self.reports.values())
                else "FAILED"
            )
        except KeyboardInterrupt:
            status = "KILLED"
            self._interrupt()
            raise
        finally:
            self.executor.shutdown(wait=True)
            self.cache.save()
            self.progress.close()
            self.pipeline.end(status)
        # None while the tracking server is unreachable: the run is journaled, sent later
        self.pipeline_run_id = self._run_ref(self.pipeline)[0]
        return self.reports

    def _run_ref(self, run: Any) -> tuple[str | None, str]:
        """A run's id, or (tracking server unreachable) None and its journal key, said once."""
        run_id, key = run.run_id_or_key()
        if run_id is None and not self._said_offline:
            self._said_offline = True
            self.progress.event(
                "! tracking server unreachable: runs are recorded locally and queued; "
                "`jupyter-mlops sync` (or the sync agent) sends them when it answers"
            )
        return run_id, key

    def _parent_environment(self, run: Any) -> dict[str, str]:
        run_id, key = self._run_ref(run)
        if run_id is not None:
            return kernel_environment(parent_run_id=run_id)
        return kernel_environment(parent_key=key)

    def _start_ready(self) -> None:
        for name in self.order:
            if name in self.reports or name in self.active:
                continue
            step = self.spec.steps[name]
            failed = [
                n
                for n in step.needs
                if self.reports.get(n) and self.reports[n].status in FAILED_STATES
            ]
            if failed:
                self.reports[name] = StepReport(name, "skipped", f"needed step {failed[0]} failed")
                self.progress.event(f"- {name}: skipped (needed step {failed[0]} failed)")
                if name in self.counted:
                    self.progress.grow(-planned_executions(step))
                continue
            if all(n in self.entries for n in step.needs):
                self._start(step)

    # -- starting work ---------------------------------------------------------------------
    def _start(self, step: StepSpec) -> None:
        plan = self.planner.evaluate(step, {n: self.entries[n] for n in step.needs})
        if plan.action == "cached":
            assert plan.entry is not None
            self.cache.restore_outputs(plan.entry)
            self.entries[step.name] = plan.entry
            metrics = plan.entry.get("metrics", {})
            self.reports[step.name] = StepReport(
                step.name,
                "cached",
                "unchanged",
                plan.entry["run_id"],
                0.0,
                key_metric(step, metrics),
                metrics=metrics,
            )
            ref = plan.entry.get("run_id") or f"key {plan.entry.get('run_key', '?')}"
            self.progress.event(f"= {step.name}: cached (run {ref[:16]})")
            if step.name in self.counted:
                self.progress.advance(planned_executions(step))
            return
        assert plan.key is not None
        if self.single_trial is not None and self.single_trial[0] == step.name:
            self._start_single_trial(step, plan, self.single_trial[1])
            return
        run = records.start_run(
            self.ws,
            name=step.name,
            kind="step",
            experiment=self.spec.experiment,
            parent=self.pipeline,
            params=plan.parameters,
            tags={
                STEP_TAG: step.name,
                CACHE_KEY_TAG: plan.key.key,
                NOTEBOOK_TAG: step.notebook,
                ENV_HASH_TAG: self.planner.env_hash,
                RUN_REASON_TAG: plan.reason,
                "mlflow.source.name": step.notebook,
            },
        )
        run.link_runs({upstream_tag(n): _producing_run(self.entries[n]) for n in step.needs})
        act = ActiveStep(plan, run, time.time())
        self.active[step.name] = act
        self.progress.event(f"> {step.name}: running ({plan.reason})")
        if step.sweep is not None:
            act.sweep = Sweep(step.sweep)
            self._fill_sweep(act)
        else:
            self._submit(act, plan.parameters, run, step.name)

    def _submit(
        self,
        act: ActiveStep,
        params: dict[str, Any],
        run: RunHandle,
        label: str,
        trial: Trial | None = None,
    ) -> None:
        step = act.step
        task_id = uuid.uuid4().hex
        notebook = self.ws.root / step.notebook
        task = NotebookTask(
            task_id=task_id,
            label=label,
            notebook=str(notebook),
            cwd=str(self.ws.root),
            parameters=params,
            output_path=str(running_dir(self.ws) / f"{task_id}.ipynb"),
            env=kernel_environment(
                notebook_path=str(notebook),
                workspace=str(self.ws.root),
                experiment=self.spec.experiment,
            ),
            kernel=step.kernel,
            timeout=step.timeout,
            retries=step.retries,
            env_hook=lambda: self._parent_environment(run),
        )
        self.progress.running(label)
        future = self.executor.submit(task)
        self.inflight[future] = InFlight(act, task, run, trial)
        act.in_flight += 1

    def _start_single_trial(self, step: StepSpec, plan: StepPlan, number: int) -> None:
        """``build --only STEP --trial N``: that one trial, a child of the pipeline run, tagged
        with the step's key so the build that finishes the sweep reuses it."""
        assert step.sweep is not None and plan.key is not None
        sweep = Sweep(step.sweep)
        trial = None
        for _ in range(number + 1):
            trial = sweep.next_trial()
        if trial is None:
            raise InvalidInput(
                f"step {step.name!r} has no trial {number}",
                hint=f"its sweep has {sweep.budget} trials, numbered from 0",
            )
        run = records.start_run(
            self.ws,
            name=f"{step.name} #{number}",
            kind="trial",
            experiment=self.spec.experiment,
            parent=self.pipeline,
            params={**plan.parameters, **trial.params},
            tags=self._trial_tags(step, plan, number),
        )
        trial.record = run
        act = ActiveStep(plan, run, time.time(), sweep=sweep, single_trial=True)
        self.active[step.name] = act
        self.progress.event(f"> {step.name} #{number}: running ({plan.reason})")
        self._submit(act, {**plan.parameters, **trial.params}, run, f"{step.name} #{number}", trial)

    def _trial_tags(self, step: StepSpec, plan: StepPlan, number: int) -> dict[str, Any]:
        assert plan.key is not None
        return {STEP_TAG: step.name, TRIAL_TAG: number, SWEEP_KEY_TAG: plan.key.key}

    def _reuse_trial(self, act: ActiveStep, trial: Trial) -> bool:
        """Tell the sweep a trial that already finished elsewhere; whether there was one."""
        assert act.sweep is not None and act.plan.key is not None
        if act.prior_trials is None:
            act.prior_trials = (
                records.finished_trials(self.gw, self.spec.experiment, act.plan.key.key)
                if self.reuse_trials
                else {}
            )
        found = act.prior_trials.get(trial.number)
        if found is None:
            return False
        run_id, metrics = found
        trial.record = LandedRun(self.gw, run_id)
        step_run_id, _ = self._run_ref(act.run)  # waits the moment the flusher needs for it
        if step_run_id:  # the trial becomes a child of the step run that uses it
            trial.record.set_tags({"mlflow.parentRunId": step_run_id})
        act.trial_metrics[trial.number] = metrics
        act.sweep.tell(trial, metrics.get(act.sweep.spec.metric))
        act.reused += 1
        self.progress.advance()
        self.progress.event(
            f"= {act.step.name} #{trial.number}: finished earlier (run {run_id[:16]})"
        )
        return True

    def _fill_sweep(self, act: ActiveStep) -> None:
        assert act.sweep is not None
        while act.in_flight < self.executor.jobs:
            trial = act.sweep.next_trial()
            if trial is None:
                break
            if self._reuse_trial(act, trial):
                continue
            params = {**act.plan.parameters, **trial.params}
            run = records.start_run(
                self.ws,
                name=f"{act.step.name} #{trial.number}",
                kind="trial",
                experiment=self.spec.experiment,
                parent=act.run,
                params=params,
                tags=self._trial_tags(act.step, act.plan, trial.number),
            )
            trial.record = run
            self._submit(act, params, run, f"{act.step.name} #{trial.number}", trial)
        if act.in_flight == 0 and not act.refit:  # every trial done (or reused): pick the best
            self._finish_sweep(act)

    # -- finishing work --------------------------------------------------------------------
    def _complete(self, future: Future[NotebookResult]) -> None:
        item = self.inflight.pop(future)
        act = item.active
        act.in_flight -= 1
        try:
            result = future.result()
        except BaseException as exc:  # a worker lost, a task cancelled
            result = NotebookResult(
                item.task.task_id,
                "FAILED",
                0.0,
                {"ename": type(exc).__name__, "evalue": str(exc)[:ERROR_TEXT]},
            )
        metrics = self._record_execution(item, result)
        self.progress.advance()
        if item.trial is not None:
            assert act.sweep is not None
            if item.trial.curve is not None:
                for h in result.history:
                    if h.get("key") == act.sweep.spec.metric and h.get("step") is not None:
                        item.trial.curve[int(h["step"])] = float(h["value"])
            ok = result.status == "FINISHED"
            value = metrics.get(act.sweep.spec.metric) if ok else None
            act.trial_metrics[item.trial.number] = metrics
            act.sweep.tell(item.trial, value, pruned=item.pruning)
            status = "KILLED" if item.pruning else result.status
            if item.pruning:
                item.run.set_tags({PRUNED_TAG: "true"})
            item.run.end(status)
            if act.single_trial:
                self._close_single_trial(act, result, metrics)
                return
            self._fill_sweep(act)
            return
        self._finish_step(act, result, metrics)

    def _record_execution(self, item: InFlight, result: NotebookResult) -> dict[str, float]:
        """Executed notebook, timings, error and metrics onto the step's or trial's run.

        Everything here is a journal append; the flusher sends it while the next kernel runs.
        Only metrics of the notebook's own tracked cells need MLflow (one query), and only when
        its code can track at all.
        """
        ws, run = self.ws, item.run
        label = item.task.label.replace(" #", "-trial-")
        if result.notebook_json:
            path = ws.subdir("notebooks") / f"{label}.ipynb"
            write_atomic(path, run.redact_notebook(result.notebook_json).encode())
            run.log_artifact(path, "notebook")
        metrics: dict[str, float] = {}
        run_id = run.known_run_id
        if run_id and self._notebook_may_track(item.active.step):
            metrics = records.child_metrics(self.gw, run_id, self.spec.experiment)
        metrics.update(result.metrics)
        stepped = [h for h in result.history if h.get("step") is not None]
        if stepped:
            run.log_history(stepped)
        run.log_metrics({**metrics, "duration_s": result.duration})
        tags: dict[str, Any] = {ATTEMPTS_TAG: result.attempts, STATUS_TAG: result.status}
        for k, v in (result.error or {}).items():
            if v is not None:
                tags[error_tag(k)] = v
        run.set_tags(tags)
        run.log_text(json.dumps(result.cell_seconds), "mlops/cell_seconds.json")
        Path(item.task.output_path).unlink(missing_ok=True)
        Path(item.task.output_path + ".metrics.jsonl").unlink(missing_ok=True)
        return metrics

    def _notebook_may_track(self, step: StepSpec) -> bool:
        if step.name not in self._may_track:
            self._may_track[step.name] = records.may_track(self.ws.root / step.notebook)
        return self._may_track[step.name]

    def _finish_sweep(self, act: ActiveStep) -> None:
        assert act.sweep is not None
        best = act.sweep.best()
        trials = len(act.sweep.trials)
        refit = best is not None and bool(act.step.outputs)
        unused = planned_executions(act.step) - trials - refit
        if unused:  # early stopping or a failed sweep: the bar's total counted the whole budget
            self.progress.grow(-unused)
        if best is None:
            error = {
                "ename": "SweepFailed",
                "evalue": f"no trial reported the metric {act.sweep.spec.metric!r}",
            }
            self._close_step(act, "FAILED", {}, error, trials)
            return
        act.best = best
        best_id, act.best_key = self._run_ref(best.record)
        best.run_id = best_id  # None offline: the entry keeps the key, resolved once it landed
        best.record.set_tags({BEST_TAG: "true"})
        act.run.set_tags({BEST_TRIAL_TAG: best.number})
        act.run.link_runs({BEST_RUN_ID_TAG: (best_id, act.best_key)})
        act.run.log_params({f"best.{k}": v for k, v in best.params.items()})
        if refit:  # the best parameters once more, so the outputs are the best ones
            act.refit = True
            self._submit(act, {**act.plan.parameters, **best.params}, act.run, act.step.name)
            return
        metrics = act.trial_metrics.get(best.number, {})
        act.run.log_metrics(metrics)
        self._close_step(act, "FINISHED", metrics, None, trials)

    def _close_single_trial(
        self, act: ActiveStep, result: NotebookResult, metrics: dict[str, float]
    ) -> None:
        """The one trial ran: report it; the step's cache entry is the sweep's, not the trial's."""
        self.active.pop(act.step.name, None)
        state = {"FINISHED": "ran", "KILLED": "killed"}.get(result.status, "failed")
        duration = time.time() - act.started
        self.reports[act.step.name] = StepReport(
            act.step.name,
            state,
            f"trial {act.sweep.trials[-1].number if act.sweep else '?'}",
            act.run.known_run_id,
            duration,
            key_metric(act.step, metrics),
            1,
            result.error,
            metrics,
        )
        self.progress.event(f"{'+' if state == 'ran' else '!'} {act.step.name}: trial {state}")

    def _finish_step(
        self, act: ActiveStep, result: NotebookResult, metrics: dict[str, float]
    ) -> None:
        trials = len(act.sweep.trials) if act.sweep else 0
        self._close_step(act, result.status, metrics, result.error, trials)

    def _close_step(
        self,
        act: ActiveStep,
        status: str,
        metrics: dict[str, float],
        error: dict[str, Any] | None,
        trials: int,
    ) -> None:
        step, plan = act.step, act.plan
        assert plan.key is not None
        extra: dict[str, Any] = {}
        if act.best is not None:
            extra = {
                "best_params": act.best.params,
                "best_run_id": act.best.run_id,
                "best_run_key": act.best_key,
            }
        if status == "FINISHED":
            outputs, missing = self.cache.store_outputs(list(step.outputs))
            if missing:
                status = "FAILED"
                error = {
                    "ename": "MissingOutput",
                    "evalue": f"declared output {missing[0]} was not written",
                }
                act.run.set_tags(
                    {error_tag("ename"): error["ename"], error_tag("evalue"): error["evalue"]}
                )
            else:
                run_id, run_key = self._run_ref(act.run)
                entry = self.cache.record(
                    plan.key,
                    run_id=run_id,
                    outputs=outputs,
                    metrics=metrics,
                    extra={**extra, "run_key": run_key},
                )
                self.entries[step.name] = entry
                if self.planner.shared is not None:
                    shared_cache.publish(act.run, entry, self.ws.root)
        act.run.end(status)
        self.active.pop(step.name, None)
        state = {"FINISHED": "ran", "KILLED": "killed"}.get(status, "failed")
        duration = time.time() - act.started
        self.reports[step.name] = StepReport(
            step.name,
            state,
            plan.reason,
            act.run.known_run_id,
            duration,
            key_metric(step, metrics),
            trials,
            error,
            metrics,
        )
        where = ""
        if error:
            cell = error.get("cell_index")
            where = f" at cell {cell}" if cell is not None else ""
            where += f": {error.get('ename')}: {error.get('evalue', '')}"[:200]
        self.progress.event(
            f"{'+' if state == 'ran' else '!'} {step.name}: {state} in {duration:.1f}s{where}"
        )

    # -- pruning and interrupts ------------------------------------------------------------
    def _check_pruning(self) -> None:
        for item in list(self.inflight.values()):
            sweep = item.active.sweep
            if item.trial is None or sweep is None or item.pruning:
                continue
            if sweep.spec.early_stopping.get("pruner") != "median":
                continue
            _, history = read_step_metrics(Path(item.task.output_path + ".metrics.jsonl"))
            if sweep.should_prune(item.trial, history):
                item.pruning = True
                self.executor.kill(item.task.task_id)
                self.progress.event(f"~ {item.task.label}: pruned")

    def _interrupt(self) -> None:
        items = list(self.inflight.values())
        self.executor.stop_all([i.task.task_id for i in items])
        for item in items:
            try:
                item.run.end("KILLED")
            except Exception:
                pass
        for name, act in list(self.active.items()):
            try:
                act.run.end("KILLED")
            except Exception:
                pass
            self.reports[name] = StepReport(
                name, "killed", "interrupted", act.run.known_run_id, time.time() - act.started
            )
        self.inflight.clear()
        self.active.clear()
