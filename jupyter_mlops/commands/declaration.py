"""One declaration per command, for both front ends: ``jupyter-mlops NAME`` and ``%mlops NAME``.

A ``Command`` holds what the two front ends share: the name and help, the arguments (flags,
type, choices, default, help), which front ends offer it, the domain call and how a terminal
shows its result. ``cli.py`` builds its subparsers from the declarations and
``notebook/subcommands.py`` the ``%mlops`` parsers, so no argument list is written twice (as
IPython's ``magic_arguments`` declare a magic's arguments once and generate its help). The
notebook's view of each command is the notebook front end's own (``notebook/views.py``):
no declaration names a module above this package.

Both front ends import every declaration to build their parsers and help, so a declaration hands
over its functions as ``Handler``s, ``lambda: calls().summaries``, where the topic module's
``calls()`` imports its ``<topic>_calls.py`` inside the function: the import runs when the command
does (``jupyter-mlops --help`` and ``%load_ext`` import none of the handler modules, which import
the domain at their top), yet it is a real import statement, so import-linter, mypy and vulture
see the edge and the function used. Nothing here imports IPython, ipywidgets or Tornado.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

FrontEnd = Literal["cli", "notebook"]
CLI: FrontEnd = "cli"
NOTEBOOK: FrontEnd = "notebook"
BOTH: tuple[FrontEnd, ...] = (CLI, NOTEBOOK)

# a function handed over by a loader that imports its module when called (see ``load``):
Handler = Callable[[], Callable[..., Any]]
DomainCall = Handler  # (gateway, args, **front-end keywords) -> result
TerminalView = Handler  # (result, args) -> exit code
TerminalFlow = Handler  # args -> exit code


@dataclass(frozen=True)
class Arg:
    """One argument: ``add_argument`` keywords, the front ends offering it, notebook overrides."""

    flags: tuple[str, ...]
    options: Mapping[str, Any]
    only: FrontEnd | None = None  # offered by this front end alone
    notebook: Mapping[str, Any] = field(default_factory=dict)  # keywords that differ in %mlops

    def offered_in(self, front_end: FrontEnd) -> bool:
        return self.only is None or self.only == front_end

    def options_for(self, front_end: FrontEnd) -> dict[str, Any]:
        return {**self.options, **(self.notebook if front_end == NOTEBOOK else {})}

    @property
    def dest(self) -> str:
        if "dest" in self.options:
            return str(self.options["dest"])
        long = [f for f in self.flags if f.startswith("--")]
        first = (long or list(self.flags))[0]
        return first.lstrip("-").replace("-", "_")


def arg(
    *flags: str,
    only: FrontEnd | None = None,
    notebook: Mapping[str, Any] | None = None,
    **options: Any,
) -> Arg:
    """``arg("--limit", "-l", type=int, default=20, notebook={"default": 50})``."""
    return Arg(flags, MappingProxyType(options), only, MappingProxyType(dict(notebook or {})))


@dataclass(frozen=True)
class Command:
    """``jupyter-mlops NAME`` and/or ``%mlops NAME``, declared once.

    The terminal runs ``show(call(gateway, args), args)``, or ``terminal(args)`` for a flow of
    its own (a watch loop, several calls); the notebook runs ``call`` and hands the result to its
    view. Each of them is a ``Handler`` for ``load``. ``actions`` are sub-actions (``agent
    status``).
    """

    name: str
    help: str
    arguments: tuple[Arg, ...] = ()
    call: DomainCall | None = None
    show: TerminalView | None = None
    terminal: TerminalFlow | None = None
    flush_first: bool = False  # the notebook sends this kernel's queued records before the call
    front_ends: tuple[FrontEnd, ...] = BOTH
    description: str | None = None  # `--help` text, when it says more than ``help``
    cell: bool = False  # also usable as %%mlops NAME (the view gets the cell body)
    line: bool = True
    actions: tuple[Command, ...] = ()

    def __post_init__(self) -> None:
        runs_in_terminal = self.terminal is not None or (self.call and self.show) or self.actions
        if CLI in self.front_ends and not runs_in_terminal:
            raise TypeError(
                f"command {self.name}: the terminal needs show+call, terminal or actions"
            )
        for a in self.arguments:
            if a.only is not None and a.only not in self.front_ends:
                raise TypeError(f"command {self.name}: {a.flags[0]} is for {a.only}, it is not")

    def offered_in(self, front_end: FrontEnd) -> bool:
        return front_end in self.front_ends

    def arguments_for(self, front_end: FrontEnd) -> list[Arg]:
        return [a for a in self.arguments if a.offered_in(front_end)]

    def add_arguments(self, parser: argparse.ArgumentParser, front_end: FrontEnd) -> None:
        """Add this front end's arguments; those of the other front end only take their default,
        so the domain call reads every declared argument in both."""
        for a in self.arguments:
            if a.offered_in(front_end):
                parser.add_argument(*a.flags, **a.options_for(front_end))
            else:
                parser.set_defaults(**{a.dest: _default_of(a.options)})


def load(handler: Handler) -> Callable[..., Any]:
    """The function a declaration hands over, its module imported now; looked up on each call,
    so one replaced in its module (a debugging hook, a test's monkeypatch) is the one called."""
    return handler()


def _default_of(options: Mapping[str, Any]) -> Any:
    if "default" in options:
        return options["default"]
    if options.get("action") == "store_true":
        return False
    if options.get("action") == "store_false":
        return True
    return None
