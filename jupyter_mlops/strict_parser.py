"""argparse as the CLI and the magics use it: no abbreviations, and unknown options named.

Plain argparse lets ``--metrcs acc`` through as an unknown option and then takes ``acc`` for the
next positional, so the user reads ``argument mode: invalid choice: 'acc'``. Here every option
word is checked first: an unknown one is refused by name, with the closest real option; so is an
unknown command word (``jupyter-mlops rnus``), with the closest command.
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from collections.abc import Mapping, Sequence
from typing import Any

_NUMBER = re.compile(r"^-\d+$|^-\d*\.\d+(e[-+]?\d+)?$")


class StrictParser(argparse.ArgumentParser):
    def __init__(self, *args: Any, elsewhere: Mapping[str, str] | None = None, **kwargs: Any):
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)
        self.elsewhere = dict(elsewhere or {})  # command words offered elsewhere -> where

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: Any = None
    ) -> tuple[argparse.Namespace, list[str]]:
        args = list(sys.argv[1:] if args is None else args)
        self._refuse_unknown_options(args)
        return super().parse_known_args(args, namespace)

    def _refuse_unknown_options(self, words: list[str]) -> None:
        commands = self._command_names()
        takes_value = False
        for word in words:
            if word == "--" or (commands and word in commands and not takes_value):
                return  # the rest belongs to a subcommand (or is positional)
            if takes_value:
                takes_value = False
                continue
            if commands and not word.startswith("-") and self._positionals_are_commands():
                if word in self.elsewhere:
                    self.error(f"{word!r} is not a command here: {self.elsewhere[word]}")
                close = difflib.get_close_matches(word, sorted(commands), n=1)
                near = f"; did you mean {close[0]!r}?" if close else ""
                self.error(f"unknown command {word!r}{near} (one of: {', '.join(commands)})")
            if not word.startswith("-") or word == "-" or _NUMBER.match(word):
                continue
            name = word.split("=", 1)[0]
            action = self._option_string_actions.get(name)
            if action is None and not word.startswith("--"):
                action = self._option_string_actions.get(word[:2])  # -l5 is -l 5
                if action is not None:
                    continue
            if action is None:
                self.error(f"unknown option {name}{self._closest(name)}")
            takes_value = "=" not in word and action.nargs != 0

    def _command_names(self) -> list[str]:
        names: list[str] = []
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                names.extend(action.choices)
        return names

    def _positionals_are_commands(self) -> bool:
        """True when the only positional is the command: a bare word must then name one."""
        return all(
            isinstance(a, argparse._SubParsersAction) for a in self._get_positional_actions()
        )

    def _closest(self, name: str) -> str:
        options = [o for o in self._option_string_actions if o.startswith("--")]
        close = difflib.get_close_matches(name, options, n=1, cutoff=0.6)
        return f"; did you mean {close[0]}?" if close else ""
