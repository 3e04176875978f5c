"""The ``%mlops NAME`` table: parsers built from the declarations in ``commands/``, each with the
notebook view the declaration names, and the help generated from them.

A view is ``view(ctx, args, result)``: ``result`` is what the declaration's domain call returned
(None for a command without one); the view shows it (HTML, a widget, a plot, or text) and returns
the cell's value. Each command's view is in ``views.VIEWS``; the call and the view are
imported when the command first runs, so ``%load_ext`` loads neither. Parsing errors and ``MlopsError`` become IPython ``UsageError``s in
``magics.py``, which only dispatches.
"""

from __future__ import annotations

import argparse
import difflib
from dataclasses import dataclass, field
from typing import Any, NoReturn

from ..commands.catalog import COMMANDS, commands_for
from ..commands.declaration import NOTEBOOK, Command, load
from ..errors import InvalidInput
from ..journal.own_writes import flush_own
from ..strict_parser import StrictParser
from .views import VIEWS


class _Parser(StrictParser):
    def error(self, message: str) -> NoReturn:  # never sys.exit inside a kernel
        raise InvalidInput(
            f"{self.prog}: {message}", hint=f"usage: {self.format_usage().strip()[7:]}"
        )


@dataclass
class Subcommand:
    command: Command
    _parser: argparse.ArgumentParser | None = field(default=None, init=False, repr=False)

    @property
    def name(self) -> str:
        return self.command.name

    @property
    def help(self) -> str:
        return self.command.help

    @property
    def cell(self) -> bool:
        return self.command.cell

    @property
    def line(self) -> bool:
        return self.command.line

    def parser(self) -> argparse.ArgumentParser:
        # built once: building one costs milliseconds (gettext); a tracked cell can't pay that
        if self._parser is None:
            description = self.command.description or self.command.help
            parser = _Parser(prog=f"%mlops {self.name}", description=description, add_help=False)
            self.command.add_arguments(parser, NOTEBOOK)
            self._parser = parser
        return self._parser

    def usage(self) -> str:
        return self.parser().format_usage().strip().removeprefix("usage: ")

    def run(self, ctx: Any, args: argparse.Namespace) -> Any:
        __tracebackhide__ = True  # an error in a tracked cell is shown from the user's code
        command = self.command
        if command.flush_first:
            flush_own(ctx.workspace)
        result = load(command.call)(ctx.gateway, args) if command.call is not None else None
        return VIEWS[command.name]()(ctx, args, result)  # without_view() is empty: a test says so


SUBCOMMANDS: dict[str, Subcommand] = {c.name: Subcommand(c) for c in commands_for(NOTEBOOK)}


def without_view() -> list[str]:
    """Commands declared for the notebook that name no view (a mistake)."""
    return [c.name for c in commands_for(NOTEBOOK) if c.name not in VIEWS]


def help_text() -> str:
    lines = ["%mlops: notebook-native MLOps on MLflow", "", "Subcommands:"]
    for name in sorted(SUBCOMMANDS):
        sub = SUBCOMMANDS[name]
        prefix = "%%mlops" if sub.cell and not sub.line else "%mlops"
        lines.append(f"  {prefix} {sub.usage().removeprefix('%mlops ')}")
        lines.append(f"      {sub.help}")
    lines.append("")
    lines.append("`%mlops help NAME` shows one subcommand in full.")
    return "\n".join(lines)


def help_for(name: str) -> str:
    sub = SUBCOMMANDS.get(name)
    if sub is None:
        raise InvalidInput(f"%mlops help: {unknown_subcommand(name)}")
    return sub.parser().format_help()


def unknown_subcommand(name: str) -> str:
    declared = COMMANDS.get(name)
    if declared is not None and not declared.offered_in(NOTEBOOK):
        return f"{name!r} runs in a terminal, not in a notebook: jupyter-mlops {name}"
    close = difflib.get_close_matches(name, list(SUBCOMMANDS), n=1)
    near = f"did you mean {close[0]!r}? " if close else ""
    return f"unknown subcommand {name!r}; {near}one of: {', '.join(sorted(SUBCOMMANDS))}"
