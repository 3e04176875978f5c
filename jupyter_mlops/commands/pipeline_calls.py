"""What ``build`` and ``steps`` do and print in a terminal (declared in ``pipeline.py``).

Nothing heavy is imported here or on the cache-hit path of ``build``: an unchanged rebuild
answers in a fraction of a second.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..pipeline.build import build as build_pipeline
from ..pipeline.graph import topological_order
from ..pipeline.spec import load_spec
from ..store.gateway import Gateway
from .terminal import gateway_from


def build_call(gw: Gateway, args: argparse.Namespace, progress: bool = True) -> Any:
    return build_pipeline(
        args.steps or None,
        workspace=gw.ws,
        force=args.force,
        jobs=args.jobs,
        executor="dask" if args.scheduler and args.executor == "local" else args.executor,
        scheduler=args.scheduler,
        dry_run=args.dry_run,
        progress=progress,
        only=args.only,
        trial=args.trial,
    )


def build(args: argparse.Namespace) -> int:
    report = build_call(gateway_from(args), args, progress=not args.quiet and sys.stderr.isatty())
    print(report.table())
    return 0 if report.ok else 1


def steps_in_order(gw: Gateway, args: argparse.Namespace) -> list[Any]:
    spec = load_spec(gw.ws)
    needs = {n: list(s.needs) for n, s in spec.steps.items()}
    return [(name, spec.steps[name]) for name in topological_order(needs, needs)]


def steps_text(steps: list[Any], args: argparse.Namespace) -> int:
    for name, step in steps:
        extra = f"  needs {', '.join(step.needs)}" if step.needs else ""
        sweep = f"  sweep {step.sweep.method} on {step.sweep.metric}" if step.sweep else ""
        print(f"{name}: {step.notebook}{extra}{sweep}")
    return 0
