"""``jupyter-mlops agent status|start|stop``: the workspace's sync agent (see store/agent.py)."""

from __future__ import annotations

import argparse
import time

from .declaration import CLI, Command, arg
from .terminal import workspace_from


def _status(args: argparse.Namespace) -> int:
    from ..store import agent_control as agent
    from ..store.sync import outbox_counts

    ws = workspace_from(args)
    state = agent.read_status(ws)
    counts = outbox_counts(ws)
    if state["running"]:
        print(f"sync agent running (pid {state.get('pid')}) for {ws.tracking_uri}")
    else:
        print(f"sync agent not running for {ws.tracking_uri} (the next tracked record starts it)")
    print(f"{counts.pending} records queued, {counts.failed} refused, {counts.journals} journals")
    if state.get("error") and counts.pending:
        print(f"last error: {state['error']}")
    return 0


def _start(args: argparse.Namespace) -> int:
    from ..store import agent_control as agent

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


def _stop(args: argparse.Namespace) -> int:
    from ..store import agent_control as agent

    ws = workspace_from(args)
    if not agent.is_running(ws):
        print("sync agent not running")
        return 0
    if agent.stop(ws, timeout=args.timeout):
        print("sync agent stopped; queued records wait in the journals until it starts again")
        return 0
    print(f"sync agent did not stop within {args.timeout:g} s")
    return 1


AGENT = Command(
    "agent",
    "the sync agent that sends journaled records to MLflow",
    actions=(
        Command("status", "is it running; what is queued", terminal=_status, front_ends=(CLI,)),
        Command("start", "start it now", terminal=_start, front_ends=(CLI,)),
        Command(
            "stop",
            "stop it (records stay queued)",
            (arg("--timeout", type=float, default=10.0),),
            terminal=_stop,
            front_ends=(CLI,),
        ),
    ),
    front_ends=(CLI,),
)

COMMANDS = (AGENT,)
