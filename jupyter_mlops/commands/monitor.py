"""``monitor MODEL [--window 1h] [--guard]``: the report; the terminal adds ``--watch`` and
``--json``, the notebook plots it (``notebook/monitor_views.py``)."""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from ..workspace import Workspace
from .declaration import CLI, NOTEBOOK, Command, arg
from .terminal import workspace_from


def _report(ws: Workspace, args: argparse.Namespace) -> Any:
    """One report over the window; with ``--guard``, a canary worse than the champion is rolled
    back and the report carries that verdict."""
    from ..monitor.guard import guard_canary
    from ..monitor.known_model import require_known_model
    from ..monitor.report import build_report
    from ..monitor.thresholds import parse_duration

    require_known_model(ws, args.model)
    window = parse_duration(args.window, "--window") if args.window else None
    report = build_report(ws, args.model, window=window, record=not args.no_record)
    if args.guard and report.canary is not None and report.canary.decision == "rollback":
        report.canary = guard_canary(ws, args.model)
    return report


def _monitor(args: argparse.Namespace) -> int:
    from ..monitor.thresholds import parse_duration

    ws = workspace_from(args)
    interval = parse_duration(args.watch, "--watch") if args.watch else None
    while True:
        report = _report(ws, args)
        if args.json:
            print(json.dumps(report.to_dict(), indent=1, default=str))
        else:
            print(report.to_text())
            if args.guard and report.canary is not None and report.canary.acted:
                print(f"\ncanary v{report.canary.canary} rolled back (recorded in the history)")
        if interval is None:
            return 1 if args.fail_on_alert and report.alerts else 0
        print(f"\n--- next check in {interval:g} s (Ctrl-C stops) ---\n", flush=True)
        time.sleep(interval)


MONITOR = Command(
    "monitor",
    "health, drift and canary verdict of a served model, from its prediction log",
    (
        arg("model", help="registered model name"),
        arg(
            "--window",
            "-w",
            help="time window ending now, e.g. 15m, 1h, 2d "
            "(default: monitor.window in mlops.yaml, else 1h)",
        ),
        arg(
            "--guard",
            action="store_true",
            help="roll the canary back when it is worse than the champion",
        ),
        arg("--watch", metavar="INTERVAL", only=CLI, help="repeat every INTERVAL (e.g. 30s)"),
        arg("--no-record", action="store_true", help="do not record a monitoring run"),
        arg("--fail-on-alert", action="store_true", only=CLI, help="exit 1 when there are alerts"),
        arg("--json", action="store_true", only=CLI, help="machine-readable output"),
        arg("--no-plot", action="store_true", only=NOTEBOOK, help="text only"),
    ),
    call=_report,
    terminal=_monitor,
)

COMMANDS = (MONITOR,)
