"""``%mlops monitor MODEL``: the report as text, with its drift and health plots."""

from __future__ import annotations

import argparse
from typing import Any

from ..commands.monitor import MONITOR
from .subcommands import view


@view(MONITOR)
def monitor(ctx: Any, args: argparse.Namespace, report: Any) -> Any:
    from IPython.display import display

    print(report.to_text())
    if not args.no_plot and (report.drift or report.health_over_time):
        import matplotlib.pyplot as plt

        from ..monitor.plots import report_figure

        fig = report_figure(report)
        display(fig)
        plt.close(fig)
    return report
