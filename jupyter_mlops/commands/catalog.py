"""Every declared command, in the order ``jupyter-mlops --help`` lists them."""

from __future__ import annotations

from . import (
    agent,
    approvals,
    datasets,
    events,
    loop,
    monitor,
    pipeline,
    platforms,
    release,
    settings,
    tracking,
)
from .declaration import Command, FrontEnd

TOPICS = (
    tracking,
    pipeline,
    monitor,
    release,
    approvals,
    loop,
    platforms,
    datasets,
    events,
    agent,
    settings,
)


def _by_name() -> dict[str, Command]:
    found: dict[str, Command] = {}
    for topic in TOPICS:
        for command in topic.COMMANDS:
            if command.name in found:
                raise TypeError(f"command {command.name} is declared twice ({topic.__name__})")
            found[command.name] = command
    return found


COMMANDS: dict[str, Command] = _by_name()


def commands_for(front_end: FrontEnd) -> list[Command]:
    """The commands ``front_end`` offers, in declaration order."""
    return [c for c in COMMANDS.values() if c.offered_in(front_end)]
