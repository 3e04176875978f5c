"""``jupyter-mlops build`` and ``jupyter-mlops steps``: parse, call ``pipeline.build``, print.

Nothing heavy is imported here or on the cache-hit path of ``build``: an unchanged rebuild
answers in a fraction of a second.
"""

from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "build",
        help="build the pipeline in mlops.yaml (cached, parallel, tracked)",
        description="Run the notebooks of mlops.yaml in dependency order through papermill, "
        "skipping steps whose cache key is unchanged.",
    )
    p.add_argument("steps", nargs="*", metavar="STEP", help="steps to build (and what they need)")
    p.add_argument("--force", action="store_true", help="rerun even unchanged steps")
    p.add_argument("--jobs", "-j", type=int, metavar="N", help="notebooks run at once")
    p.add_argument("--executor", choices=["local", "dask"], default="local")
    p.add_argument("--scheduler", metavar="ADDR", help="Dask scheduler address (tcp://host:port)")
    p.add_argument(
        "--dry-run",
        "-n",
        action="store_true",
        help="say what would run and which part of its key changed",
    )
    p.add_argument("--quiet", "-q", action="store_true", help="no progress, only the summary")
    p.set_defaults(func=_build)

    s = subparsers.add_parser("steps", help="list the steps of mlops.yaml in build order")
    s.set_defaults(func=_steps)


def _build(args: argparse.Namespace) -> int:
    from ..cli import workspace_from
    from ..pipeline.build import build

    executor = "dask" if args.scheduler and args.executor == "local" else args.executor
    report = build(
        args.steps or None,
        workspace=workspace_from(args),
        force=args.force,
        jobs=args.jobs,
        executor=executor,
        scheduler=args.scheduler,
        dry_run=args.dry_run,
        progress=not args.quiet and sys.stderr.isatty(),
    )
    print(report.table())
    return 0 if report.ok else 1


def _steps(args: argparse.Namespace) -> int:
    from ..cli import workspace_from
    from ..pipeline.graph import topological_order
    from ..pipeline.spec import load_spec

    spec = load_spec(workspace_from(args))
    needs = {n: list(s.needs) for n, s in spec.steps.items()}
    for name in topological_order(needs, needs):
        step = spec.steps[name]
        extra = f"  needs {', '.join(step.needs)}" if step.needs else ""
        sweep = f"  sweep {step.sweep.method} on {step.sweep.metric}" if step.sweep else ""
        print(f"{name}: {step.notebook}{extra}{sweep}")
    return 0
