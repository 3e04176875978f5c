"""``jupyter-mlops agent status|start|stop``: the workspace's sync agent (see store/agent.py).

What each action does is in ``agent_calls.py``, imported when one runs.
"""

from __future__ import annotations

from .declaration import CLI, Command, arg

CALLS = "jupyter_mlops.commands.agent_calls"

AGENT = Command(
    "agent",
    "the sync agent that sends journaled records to MLflow",
    actions=(
        Command(
            "status", "is it running; what is queued", terminal=f"{CALLS}:status", front_ends=(CLI,)
        ),
        Command("start", "start it now", terminal=f"{CALLS}:start", front_ends=(CLI,)),
        Command(
            "stop",
            "stop it (records stay queued)",
            (arg("--timeout", type=float, default=10.0),),
            terminal=f"{CALLS}:stop",
            front_ends=(CLI,),
        ),
    ),
    front_ends=(CLI,),
)

COMMANDS = (AGENT,)
