"""The pipeline of mlops.yaml as tasks for a workflow engine: one container per step running this
project's own CLI, sweeps fanned out one task per trial, and the loop's schedules.

- A step is ``jupyter-mlops -C PROJECT build --only STEP``: against the team server (the
  tracking URI and credentials come from a Secret), so what it needs is restored from the shared
  build cache and an unchanged step is a cache hit, as on a laptop.
- A grid or random sweep becomes one task per trial (``build --only STEP --trial N``, all in
  parallel) and then the step's own task, which reuses every finished trial, picks the best and
  records the step. An Optuna sweep proposes each trial from the finished ones, so it stays one
  task.
- Each ``schedule`` trigger of ``loop:`` becomes a scheduled workflow building the cycle's steps
  and then running the loop's cycle (``loop run --trigger NAME``: register, gates, rollout, with
  every step a cache hit by then). The other triggers (watch, dataset, command, alert) need a
  process watching them: ``jupyter-mlops loop serve``.

Engines compile the same ``Pipeline``: Argo through hera, Kubeflow through the kfp compiler,
Airflow as a DAG file of KubernetesPodOperator tasks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import InvalidInput
from ..loop.spec import Trigger, load_loop_spec
from ..pipeline.graph import closure, topological_order
from ..pipeline.spec import PipelineSpec, load_spec
from ..pipeline.sweep import sweep_budget
from ..workspace import Workspace
from .cluster import DEFAULT_SECRET, check_secret_name, k8s_name

CLI = "jupyter-mlops"
MAX_FANOUT = 200  # more trials than this run inside the step's own task


@dataclass(frozen=True)
class Task:
    name: str  # unique, a DNS-1123 label
    step: str | None  # the pipeline step (None: the loop's cycle)
    args: tuple[str, ...]  # the CLI's arguments
    after: tuple[str, ...] = ()  # task names
    trial: int | None = None

    @property
    def command(self) -> list[str]:
        return [CLI, *self.args]


@dataclass(frozen=True)
class Pipeline:
    """One workflow: its tasks in dependency order, and its schedule when a trigger has one."""

    name: str
    project: str
    tasks: tuple[Task, ...]
    schedule: Trigger | None = None

    def step_edges(self) -> set[tuple[str, str]]:
        """(needed step, step) pairs, trials folded into their step: ``jupyter-mlops steps``."""
        by_name = {t.name: t for t in self.tasks}
        edges = set()
        for task in self.tasks:
            for dep in task.after:
                a, b = by_name[dep].step, task.step
                if a and b and a != b:
                    edges.add((a, b))
        return edges

    @property
    def steps(self) -> list[str]:
        return list(dict.fromkeys(t.step for t in self.tasks if t.step))


@dataclass(frozen=True)
class ExportOptions:
    image: str = ""
    namespace: str = "default"
    secret: str = DEFAULT_SECRET
    project_dir: str = "/project"  # where the image holds the project
    service_account: str | None = None
    cpu: str = "1"
    memory: str = "2Gi"
    extra: dict[str, str] = field(default_factory=dict)


def _step_tasks(spec: PipelineSpec, order: list[str], project_dir: str) -> list[Task]:
    tasks: list[Task] = []
    last: dict[str, str] = {}  # step -> the task that finishes it
    base = ("-C", project_dir, "build", "--only")
    for name in order:
        step = spec.steps[name]
        after = tuple(last[n] for n in step.needs if n in last)
        task_name = k8s_name(name)
        fan_out = step.sweep is not None and step.sweep.method in ("grid", "random")
        if fan_out and step.sweep is not None and sweep_budget(step.sweep) <= MAX_FANOUT:
            trials = []
            for n in range(sweep_budget(step.sweep)):
                trial = Task(
                    k8s_name(f"{name}-trial-{n}"), name, (*base, name, "--trial", str(n)), after, n
                )
                trials.append(trial)
            tasks += trials
            after = tuple(t.name for t in trials)
        tasks.append(Task(task_name, name, (*base, name), after))
        last[name] = task_name
    names = [t.name for t in tasks]
    if len(set(names)) != len(names):
        raise InvalidInput(
            "two steps give the same task name once made Kubernetes-safe",
            hint="rename one of: " + ", ".join(sorted(spec.steps)),
        )
    return tasks


def pipelines(ws: Workspace, options: ExportOptions) -> list[Pipeline]:
    """The pipeline (every step, started by hand) and one per schedule trigger of ``loop:``."""
    check_secret_name(options.secret)
    spec = load_spec(ws)
    if not spec.steps:
        raise InvalidInput(
            "mlops.yaml declares no steps to export", hint="add a `steps:` section naming notebooks"
        )
    needs = {n: list(s.needs) for n, s in spec.steps.items()}
    every = topological_order(needs, needs)
    project = k8s_name(spec.project, limit=40)
    out = [Pipeline(project, spec.project, tuple(_step_tasks(spec, every, options.project_dir)))]
    loop = load_loop_spec(ws)
    cycle_steps = topological_order(needs, closure(needs, list(loop.cycle.steps) or None))
    for trigger in loop.scheduled():
        tasks = _step_tasks(spec, cycle_steps, options.project_dir)
        ends = tuple(t.name for t in tasks if not any(t.name in o.after for o in tasks))
        cycle = Task(
            "release-cycle",
            None,
            ("-C", options.project_dir, "loop", "run", "--trigger", trigger.name),
            ends,
        )
        name = k8s_name(f"{project}-{trigger.name}", limit=52)
        out.append(Pipeline(name, spec.project, (*tasks, cycle), trigger))
    return out
