"""``%mlops approve|reject|request-approval|approvals`` in a notebook: one line per approval.
``notebook/views.py`` binds each command to its view here."""

from __future__ import annotations

import argparse
from typing import Any


def approval(ctx: Any, args: argparse.Namespace, result: Any) -> None:
    print(result.summary())


def approvals(ctx: Any, args: argparse.Namespace, found: list[Any]) -> None:
    if not found:
        print("no approval " + ("recorded" if args.all else "waiting for a decision"))
    for item in found:
        print(item.summary())
