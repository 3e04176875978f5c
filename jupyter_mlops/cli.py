"""``jupyter-mlops`` (also ``jupyter mlops``): parses, calls the domain layer, prints.

Its subcommands are the declarations of ``commands/`` offered in the terminal (the same ones
``%mlops`` is built from); this module adds the global options and the error reporting.

Every ``MlopsError`` becomes one line on stderr (plus its hint) and the error's exit code; no
traceback reaches the user for a mistake of theirs. Anything else is one line too, with the
traceback kept in a debug log (``--debug`` prints it instead).
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
import traceback
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

from ._version import __version__
from .commands.catalog import COMMANDS, commands_for
from .commands.declaration import CLI, Command
from .commands.terminal import WORKSPACE_OPTIONS, run_in_terminal, workspace_from
from .errors import MlopsError
from .store.identity import denied
from .strict_parser import StrictParser


def build_parser() -> argparse.ArgumentParser:
    notebook_only = (c for c in COMMANDS.values() if not c.offered_in(CLI))
    parser = StrictParser(
        prog="jupyter-mlops",
        description="Notebook-native MLOps on MLflow.",
        elsewhere={c.name: f"it runs in a notebook, as %mlops {c.name}" for c in notebook_only},
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    for option in WORKSPACE_OPTIONS:
        parser.add_argument(*option.flags, **option.options_for(CLI))
    parser.add_argument(
        "--debug", action="store_true", help="print the traceback of an unexpected error"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in commands_for(CLI):
        _add_command(sub, command)
    return parser


def _add_command(sub: Any, command: Command) -> None:
    parser = sub.add_parser(
        command.name, help=command.help, description=command.description or command.help
    )
    command.add_arguments(parser, CLI)
    if command.actions:
        actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
        for action in command.actions:
            _add_command(actions, action)
    else:
        parser.set_defaults(func=partial(run_in_terminal, command))


def _report(exc: MlopsError) -> int:
    print(f"jupyter-mlops: error: {exc.message}", file=sys.stderr)
    if exc.hint:
        print(f"  hint: {exc.hint}", file=sys.stderr)
    return exc.exit_code


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        result = args.func(args)
    except MlopsError as exc:
        return _report(exc)
    except KeyboardInterrupt:
        print("jupyter-mlops: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug or an environment problem: one line, the rest in the log
        refused = _denied(exc, args)  # the tracking server said 403: the user's to fix
        if refused is not None:
            return _report(refused)
        if args.debug:
            traceback.print_exc()
        log = _debug_log(exc)
        where = f" (traceback in {log})" if log else ""
        print(
            f"jupyter-mlops: unexpected error: {type(exc).__name__}: {exc}{where}\n"
            "  hint: run with --debug for the traceback",
            file=sys.stderr,
        )
        return 1
    return int(result or 0)


def _denied(exc: Exception, args: argparse.Namespace) -> MlopsError | None:
    try:
        return denied(exc, workspace_from(args).tracking_uri)
    except MlopsError:
        return None


def _debug_log(exc: BaseException) -> str | None:
    """Append the traceback to the user's debug log; its path, or None if it cannot be written."""
    folder = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    path = folder / "jupyter-mlops" / "debug.log"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as fh:
            fh.write(f"--- {time.strftime('%Y-%m-%dT%H:%M:%S')} jupyter-mlops {sys.argv[1:]}\n")
            fh.write("".join(traceback.format_exception(exc)))
    except OSError:
        return None
    return str(path)


def run() -> None:
    """The ``jupyter-mlops`` program: ``main``, then exit without Python's final collections.

    Tearing down an interpreter that loaded MLflow, pandas, scikit-learn and papermill runs full
    garbage collections over millions of objects: measured 13 s on a busy 2-core machine, which
    is where an interrupted build spent its time after Ctrl-C. Frozen objects are out of the
    collector's reach; atexit handlers (the journal flush), buffered output and reference-counted
    clean-up still run.
    """
    try:
        code = main()
    finally:
        gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    run()
