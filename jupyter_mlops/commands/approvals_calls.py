"""What ``approve``, ``reject``, ``request-approval`` and ``approvals`` do and print in a
terminal (declared in ``approvals.py``)."""

from __future__ import annotations

import argparse
from typing import Any

from ..release import approvals
from ..store.gateway import Gateway


def approve(gw: Gateway, args: argparse.Namespace) -> approvals.Approval:
    return approvals.decide(gw, args.model, args.version, "approve", args.to, comment=args.comment)


def reject(gw: Gateway, args: argparse.Namespace) -> approvals.Approval:
    return approvals.decide(gw, args.model, args.version, "reject", args.to, comment=args.comment)


def request(gw: Gateway, args: argparse.Namespace) -> approvals.Approval:
    return approvals.request_approval(gw, args.model, args.version, args.to, comment=args.comment)


def decided_text(approval: approvals.Approval, args: argparse.Namespace) -> int:
    print(approval.summary())
    if approval.state == "approved" and not approval.cycle:
        print(
            f"next: jupyter-mlops promote {approval.model} {approval.version} --to {approval.alias}"
        )
    elif approval.cycle:
        print(f"the loop cycle {approval.cycle[:8]} waiting for it goes on at its next round")
    return 0


def requested_text(approval: approvals.Approval, args: argparse.Namespace) -> int:
    print(approval.summary())
    if approval.state == "requested":
        print(
            f"an approver decides: jupyter-mlops approve|reject {approval.model} {approval.version}"
        )
    return 0


def listed(gw: Gateway, args: argparse.Namespace) -> list[approvals.Approval]:
    return approvals.approvals(gw, args.model, state=None if args.all else "requested")


def listed_text(found: list[Any], args: argparse.Namespace) -> int:
    if not found:
        print("no approval " + ("recorded" if args.all else "waiting for a decision"))
    for approval in found:
        print(approval.summary())
    return 0
