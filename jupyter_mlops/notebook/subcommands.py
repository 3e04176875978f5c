"""The registry behind ``%mlops NAME ...``: one parser per subcommand, help generated from them.

Each topic declares its subcommands in its own ``notebook/cmd_<topic>.py`` with ``@subcommand``;
``magics.py`` only dispatches. Parsing errors and ``MlopsError`` become IPython ``UsageError``s.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidInput
from ..strict_parser import StrictParser


@dataclass
class Subcommand:
    name: str
    help: str
    func: Callable[..., Any]
    arguments: list[tuple[tuple, dict]] = field(default_factory=list)
    cell: bool = False  # also usable as %%mlops NAME (the cell body is passed in)
    line: bool = True

    def parser(self) -> argparse.ArgumentParser:
        cached = getattr(self, "_parser", None)
        if cached is not None:
            return cached
        parser = _Parser(prog=f"%mlops {self.name}", description=self.help, add_help=False)
        for args, kwargs in self.arguments:
            parser.add_argument(*args, **kwargs)
        self._parser = (
            parser  # building one costs milliseconds (gettext); a tracked cell can't pay that
        )
        return parser

    def usage(self) -> str:
        return self.parser().format_usage().strip().removeprefix("usage: ")


class _Parser(StrictParser):
    def error(self, message: str) -> None:  # never sys.exit inside a kernel
        raise InvalidInput(
            f"{self.prog}: {message}", hint=f"usage: {self.format_usage().strip()[7:]}"
        )


SUBCOMMANDS: dict[str, Subcommand] = {}


def arg(*args: Any, **kwargs: Any) -> tuple[tuple, dict]:
    return args, kwargs


def subcommand(
    name: str, help: str, *arguments: tuple[tuple, dict], cell: bool = False, line: bool = True
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare ``%mlops name``; the function gets ``(ctx, args, cell_body_or_None)``."""

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        SUBCOMMANDS[name] = Subcommand(name, help, func, list(arguments), cell=cell, line=line)
        return func

    return decorate


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
    import difflib

    close = difflib.get_close_matches(name, list(SUBCOMMANDS), n=1)
    near = f"did you mean {close[0]!r}? " if close else ""
    return f"unknown subcommand {name!r}; {near}one of: {', '.join(sorted(SUBCOMMANDS))}"
