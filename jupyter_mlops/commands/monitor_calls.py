"""What ``monitor`` does and prints in a terminal (declared in ``monitor.py``)."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from ..errors import InvalidInput
from ..monitor.guard import guard_canary
from ..monitor.known_model import require_known_model
from ..monitor.label_import import import_labels
from ..monitor.labels import LabelImport
from ..monitor.report import build_report
from ..monitor.thresholds import parse_duration
from ..store.gateway import Gateway
from .terminal import gateway_from


def _target(args: argparse.Namespace) -> tuple[str, Path | None]:
    """(model, labels file) from ``MODEL`` or ``labels MODEL FILE``."""
    words = [args.model, *args.labels]
    if len(words) == 3 and words[0] == "labels":
        return words[1], Path(words[2])
    if len(words) == 1:
        return words[0], None
    raise InvalidInput(
        f"monitor takes MODEL, or labels MODEL FILE; got {' '.join(words)!r}",
        hint="e.g. `monitor churn` or `monitor labels churn labels.csv`",
    )


def labels(gw: Gateway, model: str, path: Path, args: argparse.Namespace) -> LabelImport:
    """Late labels in: kept (and shipped to a team server), joined to the prediction log."""
    return import_labels(
        gw,
        model,
        path,
        id_column=args.id_column,
        label_column=args.label_column,
        row_column=args.row_column,
    )


def report(gw: Gateway, args: argparse.Namespace) -> Any:
    """One report over the window; with ``--guard``, a canary worse than the champion is rolled
    back and the report carries that verdict. ``labels MODEL FILE`` imports labels instead."""
    model, path = _target(args)
    if path is not None:
        return labels(gw, model, path, args)
    require_known_model(gw, args.model)
    window = parse_duration(args.window, "--window") if args.window else None
    checked = build_report(gw, args.model, window=window, record=not args.no_record)
    if args.guard and checked.canary is not None and checked.canary.decision == "rollback":
        checked.canary = guard_canary(gw, args.model)
    return checked


def monitor(args: argparse.Namespace) -> int:
    gw = gateway_from(args)
    model, path = _target(args)
    if path is not None:
        done = labels(gw, model, path, args)
        print(json.dumps(done.to_dict(), indent=1, default=str) if args.json else done.to_text())
        return 0
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
