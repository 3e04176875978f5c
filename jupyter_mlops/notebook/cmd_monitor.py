"""``%mlops monitor MODEL [--window 1h] [--guard] [--no-plot]``: the report, with plots."""

from __future__ import annotations

from typing import Any

from .subcommands import arg, subcommand


@subcommand(
    "monitor",
    "Health, input/prediction drift and the canary verdict of a served model, with plots.",
    arg("model", help="registered model name"),
    arg("--window", "-w", help="time window ending now, e.g. 15m, 1h (default: mlops.yaml)"),
    arg("--guard", action="store_true", help="roll a worse canary back"),
    arg("--no-plot", action="store_true", help="text only"),
    arg("--no-record", action="store_true", help="do not record a monitoring run"),
)
def monitor(ctx: Any, args: Any, cell: str | None) -> Any:
    from IPython.display import display

    from ..monitor.guard import guard_canary
    from ..monitor.known_model import require_known_model
    from ..monitor.report import build_report

    ws = ctx.workspace
    require_known_model(ws, args.model)
    report = build_report(ws, args.model, window=args.window, record=not args.no_record)
    if args.guard and report.canary is not None and report.canary.decision == "rollback":
        report.canary = guard_canary(ws, args.model)
    print(report.to_text())
    if not args.no_plot and (report.drift or report.health_over_time):
        import matplotlib.pyplot as plt

        from ..monitor.plots import report_figure

        fig = report_figure(report)
        display(fig)
        plt.close(fig)
    return report
