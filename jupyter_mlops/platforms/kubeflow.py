"""Kubeflow Pipelines v2 through the kfp compiler: one container component per task (the CLI in
the project's image), the tracking Secret mounted as environment by kfp's Kubernetes extension,
KFP's own caching off (the build cache decides what runs), and the loop's schedules as
recurring-run specs: KFP creates recurring runs through its API, not from the compiled file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .cluster import CREDENTIAL_KEYS, TRACKING_KEYS
from .workflow import ExportOptions, Pipeline, Task


def _component(task: Task, image: str) -> Any:
    from kfp import dsl

    command = task.command

    def run_step() -> Any:
        return dsl.ContainerSpec(image=image, command=command[:1], args=command[1:])

    # the component's name in the compiled spec comes from the function's; kfp reads the return
    # annotation as a class (this module's annotations are strings)
    run_step.__name__ = task.name.replace("-", "_")
    run_step.__annotations__ = {"return": dsl.ContainerSpec}
    return dsl.container_component(run_step)


def compile_pipeline(pipeline: Pipeline, options: ExportOptions, path: Path) -> Path:
    from kfp import compiler, dsl, kubernetes

    components = {t.name: _component(t, options.image) for t in pipeline.tasks}
    required = {key: key for key in TRACKING_KEYS}
    optional = {key: key for key in CREDENTIAL_KEYS}

    def run_pipeline() -> None:
        tasks: dict[str, Any] = {}
        for t in pipeline.tasks:
            task = components[t.name]()
            task.set_display_name(t.name)
            task.set_caching_options(False)
            task.set_cpu_request(options.cpu)
            task.set_memory_request(options.memory)
            kubernetes.use_secret_as_env(task, options.secret, required)
            kubernetes.use_secret_as_env(task, options.secret, optional, optional=True)
            for dep in t.after:
                task.after(tasks[dep])
            tasks[t.name] = task

    run_pipeline.__annotations__ = {}  # kfp would read the string "None" as an output type
    compiled = dsl.pipeline(
        name=pipeline.name, description=f"{pipeline.project}: jupyter-mlops build"
    )(run_pipeline)
    compiler.Compiler().compile(compiled, package_path=str(path))
    return path


def recurring_run(pipeline: Pipeline, package: str) -> dict[str, Any]:
    """A loop schedule for KFP: the ``arguments`` of ``kfp.Client().create_recurring_run``
    (KFP's cron has a seconds field first) and the trigger's time zone, which KFP does not take
    (its schedules run in the cluster's, UTC by default)."""
    trigger = pipeline.schedule
    assert trigger is not None and trigger.cron is not None
    return {
        "trigger": trigger.name,
        "timezone": trigger.timezone,
        "arguments": {
            "job_name": pipeline.name,
            "cron_expression": f"0 {trigger.cron}",
            "max_concurrency": 1,
            "no_catchup": True,
            "pipeline_package_path": package,
        },
    }
