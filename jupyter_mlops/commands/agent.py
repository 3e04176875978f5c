"""``jupyter-mlops agent status|start|stop``: the workspace's sync agent (see journal/agent.py).

What each action does is in ``agent_calls.py``, imported when one runs.
"""

from __future__ import annotations

from types import ModuleType

from .declaration import CLI, Command, arg


def calls() -> ModuleType:
    """What these commands do and print (``agent_calls.py``), imported when one runs."""
    from . import agent_calls  # noqa: PLC0415 -- --help and %load_ext import no handler

    return agent_calls


AGENT = Command(
    "agent",
    "the sync agent that sends journaled records to MLflow",
    actions=(
        Command(
            "status",
            "is it running; what is queued",
            terminal=lambda: calls().status,
            front_ends=(CLI,),
        ),
        Command("start", "start it now", terminal=lambda: calls().start, front_ends=(CLI,)),
        Command(
            "stop",
            "stop it (records stay queued)",
            (arg("--timeout", type=float, default=10.0),),
            terminal=lambda: calls().stop,
            front_ends=(CLI,),
        ),
    ),
    front_ends=(CLI,),
)

COMMANDS = (AGENT,)
