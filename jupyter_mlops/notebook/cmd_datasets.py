"""``%mlops dataset|datasets|lineage|env|reproduce``: parse, call the domain layer, return views.

Each returns an object that renders itself (a DataFrame, a lineage graph drawn as SVG, a diff
or verdict with an HTML view), so the result is both shown and kept in ``_``.
"""

from __future__ import annotations

from typing import Any

from ..errors import InvalidInput
from .subcommands import arg, subcommand


def _flush(ctx: Any) -> None:
    """Send this kernel's queued records first, so what was just tracked is queryable."""
    from ..store.own_writes import flush_own

    flush_own(ctx.workspace)


def _evaluate(ctx: Any, expr: str) -> Any:
    try:
        return eval(expr, ctx.user_ns)  # the user's own expression, in their own namespace
    except Exception as exc:
        raise InvalidInput(
            f"cannot evaluate {expr!r}: {type(exc).__name__}: {exc}",
            hint="give a variable or expression that evaluates to a DataFrame",
        ) from None


@subcommand(
    "dataset",
    "Log a DataFrame as a dataset version (`%mlops dataset EXPR`), or compare two versions "
    "(`%mlops dataset diff A B`, each a NAME@VERSION, digest or variable).",
    arg("words", nargs="+", metavar="EXPR | diff A B"),
    arg("--name", "-n", help="dataset name (default: the expression, if it is a variable name)"),
    arg("--context", "-c", help="how the run uses it: training, validation, test, ..."),
)
def dataset(ctx: Any, args: Any, cell: str | None) -> Any:
    if args.words[0] == "diff":
        if len(args.words) != 3:
            raise InvalidInput(
                "%mlops dataset diff takes two versions",
                hint="e.g. %mlops dataset diff iris@1 iris@2",
            )
        from ..datasets.diff import diff_datasets

        _flush(ctx)
        a, b = (
            ctx.user_ns[w] if w.isidentifier() and w in ctx.user_ns else w for w in args.words[1:]
        )
        return diff_datasets(ctx.workspace, a, b)
    expr = " ".join(args.words)
    obj = _evaluate(ctx, expr)
    name = args.name or (expr if expr.isidentifier() else None)
    from ..datasets.api import log_dataset

    version = log_dataset(obj, name=name, context=args.context, workspace=ctx.workspace)
    kept = "recorded" if version.file_hash is None else "stored"
    where = "" if _active() else f" (no tracked run is active: {kept}, not attached to a run)"
    print(f"dataset {version.name} digest {version.digest[:12]}{where}")
    if version.file_hash is None:
        why = version.snapshot_problem or "a snapshot was not kept"
        print(
            f"mlops: warning: no snapshot of {version.name} was stored, so it cannot be loaded back: {why}"
        )
    return version


def _active() -> bool:
    from ..capture.tracker import active_run

    return active_run() is not None


@subcommand(
    "datasets",
    "List dataset versions (all, or those of NAME), oldest first.",
    arg("name", nargs="?", help="only this dataset"),
)
def datasets(ctx: Any, args: Any, cell: str | None) -> Any:
    import pandas as pd

    from ..datasets.registry import list_versions

    _flush(ctx)
    rows = [
        {
            "ref": f"{v.name}@{v.version}",
            "digest": v.digest[:12],
            "rows": v.rows,
            "columns": v.columns,
            "source": v.source.get("file", ""),
            "snapshot": bool(v.file_hash),
            "created": pd.to_datetime(v.created, unit="ms"),
        }
        for v in list_versions(ctx.workspace, args.name)
    ]
    if not rows:
        print("no dataset versions yet: %mlops dataset EXPR logs one")
        return None
    return pd.DataFrame(rows)


@subcommand(
    "lineage",
    "Draw what produced REF and what used it (a run, NAME@VERSION, digest, m-<model id>, "
    "models:/NAME/VERSION or file:PATH); returns the graph.",
    arg("ref", help="what to start from"),
    arg("--up", action="store_true", help="only what produced it"),
    arg("--down", action="store_true", help="only what used it"),
    arg("--text", action="store_true", help="print the graph as text instead of drawing it"),
)
def lineage(ctx: Any, args: Any, cell: str | None) -> Any:
    from ..lineage.query import lineage as build

    if args.up and args.down:
        raise InvalidInput("--up and --down exclude each other", hint="omit both for both ways")
    _flush(ctx)
    graph = build(
        ctx.workspace, args.ref, direction="up" if args.up else "down" if args.down else "both"
    )
    if args.text:
        print(graph.to_text())
    return graph


@subcommand(
    "env",
    "`%mlops env diff RUN RUN`: interpreter, hardware and package versions of two runs compared.",
    arg("action", choices=["diff"]),
    arg("runs", nargs=2, metavar="RUN"),
)
def env(ctx: Any, args: Any, cell: str | None) -> Any:
    from ..reproduce.environment_diff import env_diff_runs

    _flush(ctx)
    return env_diff_runs(ctx.workspace, *args.runs)


@subcommand(
    "reproduce",
    "Re-execute RUN's recorded code in a fresh kernel and compare metrics, datasets and "
    "packages; records a linked reproduction run with the verdict.",
    arg("run", help="run id, key or name"),
    arg("--tolerance", type=float, default=1e-6, help="relative metric tolerance (default 1e-6)"),
    arg("--ignore-env", action="store_true", help="do not let package differences decide"),
    arg("--timeout", type=float, default=600.0, help="seconds allowed per cell (default 600)"),
)
def reproduce(ctx: Any, args: Any, cell: str | None) -> Any:
    from ..reproduce.rerun import reproduce as run_it

    _flush(ctx)
    return run_it(
        ctx.workspace,
        args.run,
        rtol=args.tolerance,
        timeout=args.timeout,
        check_environment=not args.ignore_env,
    )
