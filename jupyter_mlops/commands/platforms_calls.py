"""What ``deploy``, ``export``, ``ci``, ``init`` and ``score`` do and print in a terminal
(declared in ``platforms.py``)."""

from __future__ import annotations

import argparse
from typing import Any

from ..errors import GateFailed
from ..platforms import ci as pr_checks
from ..platforms import deploy as deployment
from ..platforms import export as exporting
from ..platforms import score as batch_scoring
from ..platforms.ci_report import write_report
from ..platforms.ci_workflows import write_ci_workflow
from ..platforms.workflow import ExportOptions
from ..store.gateway import Gateway


def deploy(gw: Gateway, args: argparse.Namespace) -> Any:
    request = deployment.DeployRequest(
        model=args.model,
        target=args.target,
        out=args.out,
        namespace=args.namespace,
        image=args.image,
        secret=args.secret,
        mode=args.mode,
        artifact_root=args.artifact_root,
        collector_url=args.collector_url,
        service_account=args.service_account,
        replicas=args.replicas,
        max_replicas=args.max_replicas,
        cpu=args.cpu,
        memory=args.memory,
    )
    return deployment.deploy(gw, request)


def deployed_text(result: Any, args: argparse.Namespace) -> int:
    print(result.text())
    return 0


def export(gw: Gateway, args: argparse.Namespace) -> Any:
    options = ExportOptions(
        image=args.image,
        namespace=args.namespace,
        secret=args.secret,
        project_dir=args.project_dir,
        service_account=args.service_account,
        cpu=args.cpu,
        memory=args.memory,
    )
    return exporting.export(gw.ws, args.target, args.out, options)


def exported_text(result: Any, args: argparse.Namespace) -> int:
    print(result.text())
    return 0


def ci(gw: Gateway, args: argparse.Namespace) -> Any:
    path, _ = pr_checks.ci_outputs(gw.ws, args.out)
    outcome = pr_checks.run_ci(gw, model=args.model, step=args.step, jobs=args.jobs)
    return outcome, write_report(outcome, path)


def ci_text(result: Any, args: argparse.Namespace) -> int:
    outcome, files = result
    print(f"report: {files[0]}" + (f" (+ {len(files) - 1} plots)" if len(files) > 1 else ""))
    if outcome.problem:
        print(f"no verdict: {outcome.problem}")
        return 1
    print(outcome.gates.text())
    return 0 if outcome.passed else GateFailed.exit_code


def init(gw: Gateway, args: argparse.Namespace) -> Any:
    return write_ci_workflow(gw.ws, args.ci, force=args.force)


def init_text(written: Any, args: argparse.Namespace) -> int:
    print(f"wrote {written.path}: it runs `jupyter-mlops ci` on every request and posts the report")
    print("its secrets: MLFLOW_TRACKING_URI, MLFLOW_TRACKING_USERNAME, MLFLOW_TRACKING_PASSWORD")
    return 0


def score(gw: Gateway, args: argparse.Namespace) -> Any:
    return batch_scoring.score(
        gw,
        args.model,
        args.input,
        args.output,
        engine=args.engine,
        batch_rows=args.batch_rows,
        scheduler=args.scheduler,
        workers=args.workers,
    )


def scored_text(result: Any, args: argparse.Namespace) -> int:
    print(result.text())
    return 0
