"""``%mlops monitor MODEL``: the report as text, with its drift and health plots.

``commands/monitor.py`` names this view."""

from __future__ import annotations

import argparse
from typing import Any

from IPython.display import display

from ..monitor.plots import report_figure


def monitor(ctx: Any, args: argparse.Namespace, report: Any) -> Any:
    print(report.to_text())
    if not hasattr(report, "drift"):  # `%mlops monitor labels MODEL FILE`: a label import
        return report
    if not args.no_plot and (report.drift or report.health_over_time):
        import matplotlib.pyplot as plt

        fig = report_figure(report)
        display(fig)
        plt.close(fig)
    return report
