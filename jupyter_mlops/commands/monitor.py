"""``jupyter-mlops monitor MODEL [--window 1h] [--guard] [--watch SECONDS] [--json]``."""

from __future__ import annotations

import argparse
import json
import time
from typing import Any


def _monitor(args: argparse.Namespace) -> int:
    from ..cli import workspace_from
    from ..monitor.guard import guard_canary
    from ..monitor.known_model import require_known_model
    from ..monitor.report import build_report
    from ..monitor.thresholds import parse_duration

    ws = workspace_from(args)
    require_known_model(ws, args.model)
    window = parse_duration(args.window, "--window") if args.window else None
    interval = parse_duration(args.watch, "--watch") if args.watch else None
    while True:
        report = build_report(ws, args.model, window=window, record=not args.no_record)
        if args.guard and report.canary is not None and report.canary.decision == "rollback":
            verdict = guard_canary(ws, args.model)
            report.canary = verdict
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


def register(sub: Any) -> None:
    p = sub.add_parser(
        "monitor",
        help="health, drift and canary verdict of a served model, from its prediction log",
    )
    p.add_argument("model", help="registered model name")
    p.add_argument(
        "--window",
        "-w",
        help="time window ending now, e.g. 15m, 1h, 2d "
        "(default: monitor.window in mlops.yaml, else 1h)",
    )
    p.add_argument(
        "--guard",
        action="store_true",
        help="roll the canary back when it is worse than the champion",
    )
    p.add_argument("--watch", metavar="INTERVAL", help="repeat every INTERVAL (e.g. 30s)")
    p.add_argument("--no-record", action="store_true", help="do not record a monitoring run")
    p.add_argument("--fail-on-alert", action="store_true", help="exit 1 when there are alerts")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_monitor)
