"""``jupyter-mlops loop serve|run|status``: the loop that turns triggers into release cycles
(``loop:`` in mlops.yaml). What each action does is in ``loop_calls.py``, imported when one
runs."""

from __future__ import annotations

from types import ModuleType

from .declaration import CLI, Command, arg


def calls() -> ModuleType:
    """What these commands do and print (``loop_calls.py``), imported when one runs."""
    from . import loop_calls  # noqa: PLC0415 -- --help and %load_ext import no handler

    return loop_calls


LOOP = Command(
    "loop",
    "the release loop: triggers start cycles (build, register, gates, rollout)",
    actions=(
        Command(
            "serve",
            "run the loop: check the triggers and run the cycles (one leader per model)",
            (
                arg(
                    "--poll",
                    type=float,
                    metavar="SECONDS",
                    help="seconds between rounds (default: loop.poll in mlops.yaml, else 30)",
                ),
            ),
            terminal=lambda: calls().serve,
            front_ends=(CLI,),
        ),
        Command(
            "run",
            "one cycle now, by hand, followed to its end",
            (
                arg("--trigger", metavar="NAME", help="record it as a firing of this trigger"),
                arg(
                    "--timeout",
                    type=float,
                    metavar="SECONDS",
                    help="stop following after this long (the cycle goes on)",
                ),
            ),
            terminal=lambda: calls().run,
            front_ends=(CLI,),
        ),
        Command(
            "status",
            "the leader, the triggers, the cycles and the approvals waiting",
            (arg("--json", action="store_true", help="machine-readable output"),),
            terminal=lambda: calls().status,
            front_ends=(CLI,),
        ),
    ),
    front_ends=(CLI,),
)

COMMANDS = (LOOP,)
