"""One declaration per command, for both front ends: ``jupyter-mlops NAME`` and ``%mlops NAME``.

A ``Command`` holds what the two front ends share: the name and help, the arguments (flags,
type, choices, default, help), which front ends offer it, and by name the domain call, how a
terminal shows the result and the notebook view. ``cli.py`` builds its subparsers from the
declarations and ``notebook/subcommands.py`` the ``%mlops`` parsers, so no argument list is
written twice (as IPython's ``magic_arguments`` declare a magic's arguments once and generate its
help).

Both front ends import every declaration to build their parsers and help, so a declaration names
its functions (``"jupyter_mlops.commands.tracking_calls:summaries"``) and ``load`` imports them
only when the command runs, as click's lazy groups and pytest's plugin entry points do: the
handler modules (``commands/*_calls.py``, ``notebook/*_views.py``) import the domain at their
top, and ``jupyter-mlops --help`` or ``%load_ext`` load none of it. Nothing here imports IPython,
ipywidgets or Tornado.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

FrontEnd = Literal["cli", "notebook"]
CLI: FrontEnd = "cli"
NOTEBOOK: FrontEnd = "notebook"
BOTH: tuple[FrontEnd, ...] = (CLI, NOTEBOOK)

# "package.module:function", imported when the command runs (see ``load``):
DomainCall = str  # (gateway, args, **front-end keywords) -> result
TerminalView = str  # (result, args) -> exit code
TerminalFlow = str  # args -> exit code
NotebookView = str  # (ctx, args, result) -> the cell's value


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
    its own (a watch loop, several calls); the notebook runs ``call`` and hands the result to
    ``view``. Each of them is a name for ``load``. ``actions`` are sub-actions (``agent status``).
    """

    name: str
    help: str
    arguments: tuple[Arg, ...] = ()
    call: DomainCall | None = None
    show: TerminalView | None = None
    terminal: TerminalFlow | None = None
    view: NotebookView | None = None
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


def load(name: str) -> Callable[..., Any]:
    """The function a declaration names, ``"package.module:function"``, imported now; looked up
    on each call, so one replaced in its module (a debugging hook, a test's monkeypatch) is the
    one called."""
    module, _, function = name.partition(":")
    found: Callable[..., Any] = getattr(importlib.import_module(module), function)
    return found


def _default_of(options: Mapping[str, Any]) -> Any:
    if "default" in options:
        return options["default"]
    if options.get("action") == "store_true":
        return False
    if options.get("action") == "store_false":
        return True
    return None
