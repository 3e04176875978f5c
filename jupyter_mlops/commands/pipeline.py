"""``build`` (both front ends) and ``steps`` (terminal): parse, call ``pipeline.build``, print.

Nothing heavy is imported here or on the cache-hit path of ``build``: an unchanged rebuild
answers in a fraction of a second.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..workspace import Workspace
from .declaration import CLI, Command, arg
from .terminal import workspace_from


def _build_call(ws: Workspace, args: argparse.Namespace, progress: bool = True) -> Any:
    from ..pipeline.build import build

    return build(
        args.steps or None,
        workspace=ws,
        force=args.force,
        jobs=args.jobs,
        executor="dask" if args.scheduler and args.executor == "local" else args.executor,
        scheduler=args.scheduler,
        dry_run=args.dry_run,
        progress=progress,
    )


def _build(args: argparse.Namespace) -> int:
    report = _build_call(
        workspace_from(args), args, progress=not args.quiet and sys.stderr.isatty()
    )
    print(report.table())
    return 0 if report.ok else 1


BUILD = Command(
    "build",
    "build the pipeline in mlops.yaml (cached, parallel, each step a tracked run)",
    (
        arg("steps", nargs="*", metavar="STEP", help="steps to build (and what they need)"),
        arg("--force", action="store_true", help="rerun even unchanged steps"),
        arg("--jobs", "-j", type=int, metavar="N", help="notebooks run at once"),
        arg("--executor", choices=["local", "dask"], default="local"),
        arg("--scheduler", metavar="ADDR", help="Dask scheduler address (tcp://host:port)"),
        arg(
            "--dry-run",
            "-n",
            action="store_true",
            help="say what would run and which part of its key changed",
        ),
        arg("--quiet", "-q", action="store_true", only=CLI, help="no progress, only the summary"),
    ),
    call=_build_call,
    terminal=_build,
    description="Run the notebooks of mlops.yaml in dependency order through papermill, "
    "skipping steps whose cache key is unchanged.",
)


def _steps_in_order(ws: Workspace, args: argparse.Namespace) -> list[Any]:
    from ..pipeline.graph import topological_order
    from ..pipeline.spec import load_spec

    spec = load_spec(ws)
    needs = {n: list(s.needs) for n, s in spec.steps.items()}
    return [(name, spec.steps[name]) for name in topological_order(needs, needs)]


def _steps_text(steps: list[Any], args: argparse.Namespace) -> int:
    for name, step in steps:
        extra = f"  needs {', '.join(step.needs)}" if step.needs else ""
        sweep = f"  sweep {step.sweep.method} on {step.sweep.metric}" if step.sweep else ""
        print(f"{name}: {step.notebook}{extra}{sweep}")
    return 0


STEPS = Command(
    "steps",
    "list the steps of mlops.yaml in build order",
    call=_steps_in_order,
    show=_steps_text,
    front_ends=(CLI,),
)

COMMANDS = (BUILD, STEPS)
