"""What ``monitor`` does and prints in a terminal (declared in ``monitor.py``)."""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from ..monitor.guard import guard_canary
from ..monitor.known_model import require_known_model
from ..monitor.report import build_report
from ..monitor.thresholds import parse_duration
from ..store.gateway import Gateway
from .terminal import gateway_from


def report(gw: Gateway, args: argparse.Namespace) -> Any:
    """One report over the window; with ``--guard``, a canary worse than the champion is rolled
    back and the report carries that verdict."""
    require_known_model(gw, args.model)
    window = parse_duration(args.window, "--window") if args.window else None
    checked = build_report(gw, args.model, window=window, record=not args.no_record)
    if args.guard and checked.canary is not None and checked.canary.decision == "rollback":
        checked.canary = guard_canary(gw, args.model)
    return checked


def monitor(args: argparse.Namespace) -> int:
    gw = gateway_from(args)
    interval = parse_duration(args.watch, "--watch") if args.watch else None
    while True:
        found = report(gw, args)
        if args.json:
            print(json.dumps(found.to_dict(), indent=1, default=str))
        else:
            print(found.to_text())
            if args.guard and found.canary is not None and found.canary.acted:
                print(f"\ncanary v{found.canary.canary} rolled back (recorded in the history)")
        if interval is None:
            return 1 if args.fail_on_alert and found.alerts else 0
        print(f"\n--- next check in {interval:g} s (Ctrl-C stops) ---\n", flush=True)
        time.sleep(interval)
