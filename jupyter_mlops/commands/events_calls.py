"""What ``events`` does and prints in a terminal (declared in ``events.py``)."""

from __future__ import annotations

import argparse
import json

from ..errors import InvalidInput
from ..journal.event_status import EventStatus, event_status
from ..store.gateway import Gateway


def status(gw: Gateway, args: argparse.Namespace) -> EventStatus:
    if args.limit < 1:
        raise InvalidInput(f"--limit must be at least 1, got {args.limit}")
    return event_status(gw.ws, limit=args.limit, state=args.state, retry_failed=args.retry_failed)


def status_text(found: EventStatus, args: argparse.Namespace) -> int:
    if args.json:
        print(json.dumps(found.to_dict(), indent=1, default=str))
    else:
        print(found.to_text())
    return 0
