"""What ``jupyter-mlops loop serve|run|status`` do (declared in ``loop.py``)."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from types import FrameType

from ..loop.service import LoopService, run_by_hand
from ..loop.status import format_status, loop_status
from .terminal import gateway_from


def say(text: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {text}", flush=True)


def serve(args: argparse.Namespace) -> int:
    service = LoopService(gateway_from(args), say=say, poll=args.poll)

    def stop(signum: int, frame: FrameType | None) -> None:
        service.stop()

    signal.signal(signal.SIGTERM, stop)
    try:
        service.serve()
    except KeyboardInterrupt:
        service.release()
    say("loop stopped")
    return 0


def run(args: argparse.Namespace) -> int:
    cycle = run_by_hand(gateway_from(args), trigger=args.trigger, say=say, timeout=args.timeout)
    if cycle.active:
        print("the cycle goes on: jupyter-mlops loop status", file=sys.stderr)
        return 0
    return 0 if cycle.outcome in ("promoted", "validated", "unchanged") else 5


def status(args: argparse.Namespace) -> int:
    found = loop_status(gateway_from(args))
    if args.json:
        print(json.dumps(found.to_dict(), indent=1, default=str))
    else:
        print(format_status(found))
    return 0
