"""``%mlops build``: the pipeline build from a notebook (progress as a widget, summary as text)."""

from __future__ import annotations

from typing import Any

from .subcommands import arg, subcommand


@subcommand(
    "build",
    "Build the pipeline in mlops.yaml: cached, parallel, each step a tracked run.",
    arg("steps", nargs="*", metavar="STEP", help="steps to build (and what they need)"),
    arg("--force", action="store_true", help="rerun even unchanged steps"),
    arg("--jobs", "-j", type=int, metavar="N", help="notebooks run at once"),
    arg("--executor", choices=["local", "dask"], default="local"),
    arg("--scheduler", metavar="ADDR", help="Dask scheduler address"),
    arg("--dry-run", "-n", action="store_true", help="say what would run and why"),
)
def build(ctx: Any, args: Any, cell: str | None) -> Any:
    from ..pipeline.build import build as run_build

    report = run_build(
        args.steps or None,
        workspace=ctx.workspace,
        force=args.force,
        jobs=args.jobs,
        executor="dask" if args.scheduler else args.executor,
        scheduler=args.scheduler,
        dry_run=args.dry_run,
    )
    print(report.table())
    return None
