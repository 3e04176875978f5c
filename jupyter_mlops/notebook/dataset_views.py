"""``%mlops dataset|datasets|lineage|env|reproduce`` in a notebook: each returns an object that
renders itself (a DataFrame, a lineage graph drawn as SVG, a diff or verdict wrapped with its
HTML view, ``result_views.Rendered``), so the result is both shown and kept in ``_``. Each declaration in ``commands/datasets.py`` names
its view here.
"""

from __future__ import annotations

import argparse
from typing import Any

from ..capture.tracker import active_run
from ..commands.texts import dataset_diff_text, env_diff_text, reproduction_text
from ..datasets.api import log_dataset
from ..datasets.diff import diff_datasets
from ..errors import InvalidInput
from ..journal.own_writes import flush_own
from .result_views import Rendered, dataset_diff_html, env_diff_html, reproduction_html


def _flush(ctx: Any) -> None:
    """Send this kernel's queued records first, so what was just tracked is queryable."""
    flush_own(ctx.workspace)


def _evaluate(ctx: Any, expr: str) -> Any:
    try:
        return eval(expr, ctx.user_ns)  # the user's own expression, in their own namespace
    except Exception as exc:
        raise InvalidInput(
            f"cannot evaluate {expr!r}: {type(exc).__name__}: {exc}",
            hint="give a variable or expression that evaluates to a DataFrame",
        ) from None


def dataset(ctx: Any, args: argparse.Namespace, result: None) -> Any:
    if args.words[0] == "diff":
        if len(args.words) != 3:
            raise InvalidInput(
                "%mlops dataset diff takes two versions",
                hint="e.g. %mlops dataset diff iris@1 iris@2",
            )
        _flush(ctx)
        a, b = (
            ctx.user_ns[w] if w.isidentifier() and w in ctx.user_ns else w for w in args.words[1:]
        )
        diff = diff_datasets(ctx.gateway, a, b)
        text = dataset_diff_text(diff)
        return Rendered(diff, text, dataset_diff_html(diff, text))
    expr = " ".join(args.words)
    obj = _evaluate(ctx, expr)
    name = args.name or (expr if expr.isidentifier() else None)
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
    return active_run() is not None


def datasets(ctx: Any, args: argparse.Namespace, versions: list[Any]) -> Any:
    import pandas as pd

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
        for v in versions
    ]
    if not rows:
        print("no dataset versions yet: %mlops dataset EXPR logs one")
        return None
    return pd.DataFrame(rows)


def lineage(ctx: Any, args: argparse.Namespace, graph: Any) -> Any:
    if args.text:
        print(graph.to_text())
    return graph


def env(ctx: Any, args: argparse.Namespace, diff: Any) -> Any:
    return Rendered(diff, env_diff_text(diff), env_diff_html(diff))


def reproduce(ctx: Any, args: argparse.Namespace, verdict: Any) -> Any:
    return Rendered(verdict, reproduction_text(verdict), reproduction_html(verdict))
