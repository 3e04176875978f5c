"""What ``jupyter-mlops agent status|start|stop`` do (declared in ``agent.py``)."""

from __future__ import annotations

import argparse
import time

from ..journal import agent_control as agent
from ..journal.sync import outbox_counts
from .terminal import workspace_from


def status(args: argparse.Namespace) -> int:
    ws = workspace_from(args)
    state = agent.read_status(ws)
    counts = outbox_counts(ws)
    if state["running"]:
        paused = ", paused while a tracked cell computes" if state.get("paused") else ""
        print(f"sync agent running (pid {state.get('pid')}{paused}) for {ws.tracking_uri}")
    else:
        print(f"sync agent not running for {ws.tracking_uri} (the next tracked record starts it)")
    print(f"{counts.pending} records queued, {counts.failed} refused, {counts.journals} journals")
    if state.get("error") and counts.pending:
        print(f"last error: {state['error']}")
    return 0


def start(args: argparse.Namespace) -> int:
    ws = workspace_from(args)
    ws.ensure_state_dir()
    if not agent.ensure_running(ws):
        print("sync agent already running")
        return 0
    deadline = time.monotonic() + 30
    while not agent.is_running(ws) and time.monotonic() < deadline:
        time.sleep(0.05)
    print("sync agent started" if agent.is_running(ws) else "sync agent did not start")
    return 0 if agent.is_running(ws) else 1


def stop(args: argparse.Namespace) -> int:
    ws = workspace_from(args)
    if not agent.is_running(ws):
        print("sync agent not running")
        return 0
    if agent.stop(ws, timeout=args.timeout):
        print("sync agent stopped; queued records wait in the journals until it starts again")
        return 0
    print(f"sync agent did not stop within {args.timeout:g} s")
    return 1
