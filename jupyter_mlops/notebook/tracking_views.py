"""``%mlops runs|show|compare|sync`` in a notebook: runs as widgets (see ``run_widgets.py``).

Each declaration in ``commands/tracking.py`` names its view here."""

from __future__ import annotations

import argparse
from typing import Any

from ..store.run_details import run_detail
from .run_widgets import compare_widget, run_widget, runs_widget


def runs(ctx: Any, args: argparse.Namespace, found: list[dict[str, Any]]) -> Any:
    if not found:
        print("mlops: no runs yet; record one with %%mlops track")
        return None
    gw = ctx.gateway
    return runs_widget(found, lambda run_id: run_widget(run_detail(gw, run_id)))


def show(ctx: Any, args: argparse.Namespace, detail: dict[str, Any]) -> Any:
    return run_widget(detail)


def compare(ctx: Any, args: argparse.Namespace, table: dict[str, Any]) -> Any:
    return compare_widget(table)


def sync(ctx: Any, args: argparse.Namespace, report: Any) -> None:
    print(report.describe())
