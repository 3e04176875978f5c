"""``%mlops runs|show|compare|sync`` in a notebook: runs as widgets (see ``run_widgets.py``)."""

from __future__ import annotations

import argparse
from typing import Any

from ..commands.tracking import COMPARE, RUNS, SHOW, SYNC
from .subcommands import view


@view(RUNS)
def runs(ctx: Any, args: argparse.Namespace, found: list[dict[str, Any]]) -> Any:
    from ..store.run_details import run_detail
    from .run_widgets import run_widget, runs_widget

    if not found:
        print("mlops: no runs yet; record one with %%mlops track")
        return None
    ws = ctx.workspace
    return runs_widget(found, lambda run_id: run_widget(run_detail(ws, run_id)))


@view(SHOW)
def show(ctx: Any, args: argparse.Namespace, detail: dict[str, Any]) -> Any:
    from .run_widgets import run_widget

    return run_widget(detail)


@view(COMPARE)
def compare(ctx: Any, args: argparse.Namespace, table: dict[str, Any]) -> Any:
    from .run_widgets import compare_widget

    return compare_widget(table)


@view(SYNC)
def sync(ctx: Any, args: argparse.Namespace, report: Any) -> None:
    print(report.describe())
