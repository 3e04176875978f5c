"""What ``deploy``, ``export``, ``ci``, ``init`` and ``score`` do and print in a terminal
(declared in ``platforms.py``)."""

from __future__ import annotations

import argparse
from typing import Any

from ..platforms import deploy as deployment
from ..platforms import export as exporting
from ..platforms.workflow import ExportOptions
from ..store.gateway import gateway_for
from ..workspace import Workspace


def deploy(ws: Workspace, args: argparse.Namespace) -> Any:
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
    return deployment.deploy(gateway_for(ws), request)


def deployed_text(result: Any, args: argparse.Namespace) -> int:
    print(result.text())
    return 0


def export(ws: Workspace, args: argparse.Namespace) -> Any:
    options = ExportOptions(
        image=args.image,
        namespace=args.namespace,
        secret=args.secret,
        project_dir=args.project_dir,
        service_account=args.service_account,
        cpu=args.cpu,
        memory=args.memory,
    )
    return exporting.export(ws, args.target, args.out, options)


def exported_text(result: Any, args: argparse.Namespace) -> int:
    print(result.text())
    return 0
