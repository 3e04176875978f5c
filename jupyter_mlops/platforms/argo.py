"""Argo Workflows through hera: a ``Workflow`` for the pipeline and a ``CronWorkflow`` per loop
schedule, each a DAG of container templates, one per task."""

from __future__ import annotations

from typing import Any

from .workflow import ExportOptions, Pipeline


def _workflow_kwargs(pipeline: Pipeline, options: ExportOptions) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "entrypoint": "pipeline",
        "namespace": options.namespace,
        "labels": {
            "app.kubernetes.io/name": pipeline.name,
            "app.kubernetes.io/managed-by": "jupyter-mlops",
        },
    }
    if options.service_account:
        kwargs["service_account_name"] = options.service_account
    return kwargs


def _build(workflow: Any, pipeline: Pipeline, options: ExportOptions) -> None:
    """Templates and the DAG, inside ``workflow``'s context."""
    from hera.workflows import DAG, Container, Resources, SecretEnvFrom

    templates = {
        task.name: Container(
            name=task.name,
            image=options.image,
            command=task.command[:1],
            args=task.command[1:],
            env_from=[SecretEnvFrom(name=options.secret)],
            resources=Resources(cpu_request=options.cpu, memory_request=options.memory),
        )
        for task in pipeline.tasks
    }
    with DAG(name="pipeline"):
        # calling a template inside a DAG makes its task (hera types it as task, step or None)
        nodes: dict[str, Any] = {t.name: templates[t.name](name=t.name) for t in pipeline.tasks}
        for task in pipeline.tasks:
            for dep in task.after:
                nodes[dep] >> nodes[task.name]


def argo_documents(pipeline: Pipeline, options: ExportOptions) -> dict[str, Any]:
    """The Workflow (or, for a schedule, the CronWorkflow) as a dict ready for YAML."""
    from hera.workflows import CronWorkflow, Workflow

    kwargs = _workflow_kwargs(pipeline, options)
    trigger = pipeline.schedule
    if trigger is None:
        with Workflow(generate_name=f"{pipeline.name}-", **kwargs) as wf:
            _build(wf, pipeline, options)
        return dict(wf.to_dict())
    with CronWorkflow(
        name=pipeline.name,
        schedule=trigger.cron,
        timezone=trigger.timezone,
        concurrency_policy="Forbid",  # a cycle still running is not started twice
        starting_deadline_seconds=600,
        **kwargs,
    ) as cron:
        _build(cron, pipeline, options)
    return dict(cron.to_dict())
