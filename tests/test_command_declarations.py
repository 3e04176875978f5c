"""Both front ends come from one declaration per command: the same arguments, the same help.

Every test reads the parsers the front ends really use (``cli.build_parser`` and the ``%mlops``
table), so an argument added to one of them by hand, or a declaration that one front end
ignores, fails here.
"""

from __future__ import annotations

import argparse
import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest

from jupyter_mlops import cli
from jupyter_mlops.commands.catalog import COMMANDS, commands_for
from jupyter_mlops.commands.declaration import BOTH, CLI, NOTEBOOK, Command, arg, load
from jupyter_mlops.errors import InvalidInput
from jupyter_mlops.notebook.subcommands import SUBCOMMANDS, help_for, without_view
from jupyter_mlops.notebook.views import VIEWS

# What one front end offers and the other does not, by command. Each is a decision (a terminal
# has no widgets to plot; a notebook has no use for --json): add to this list deliberately.
ONE_SIDED = {
    "runs": {CLI: {"json"}, NOTEBOOK: set()},
    "show": {CLI: {"json"}, NOTEBOOK: set()},
    "sync": {CLI: {"timeout", "retry_failed", "discard_failed"}, NOTEBOOK: set()},
    "build": {CLI: {"quiet"}, NOTEBOOK: set()},
    "monitor": {CLI: {"watch", "fail_on_alert", "json"}, NOTEBOOK: {"no_plot"}},
    "card": {CLI: {"out", "print"}, NOTEBOOK: set()},
    "history": {CLI: {"json"}, NOTEBOOK: set()},
    "datasets": {CLI: {"json"}, NOTEBOOK: set()},
    "lineage": {CLI: {"json", "svg"}, NOTEBOOK: {"text"}},
    "reproduce": {CLI: {"json"}, NOTEBOOK: set()},
    "events": {CLI: {"json"}, NOTEBOOK: set()},
    "config": {CLI: {"json"}, NOTEBOOK: set()},
}
# Declared defaults that differ by front end (a notebook table has room for more runs).
NOTEBOOK_DEFAULTS = {("runs", "limit"): (20, 50)}


def _cli_parsers() -> dict[str, argparse.ArgumentParser]:
    """Every CLI subcommand's parser, ``agent stop`` included, by its words."""
    found: dict[str, argparse.ArgumentParser] = {}

    def walk(parser: argparse.ArgumentParser, prefix: str) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    found[f"{prefix}{name}"] = sub
                    walk(sub, f"{prefix}{name} ")

    walk(cli.build_parser(), "")
    return found


def _arguments(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    skip = (argparse._HelpAction, argparse._SubParsersAction)
    return {a.dest: a for a in parser._actions if not isinstance(a, skip)}


def _signature(action: argparse.Action) -> dict[str, object]:
    """What a user sees and types of an argument: all but its default."""
    return {
        "flags": tuple(action.option_strings),
        "kind": type(action).__name__,
        "nargs": action.nargs,
        "type": action.type,
        "choices": action.choices,
        "metavar": action.metavar,
        "required": action.required,
        "help": action.help,
    }


def _front_end_commands() -> list[str]:
    return [c.name for c in COMMANDS.values() if set(c.front_ends) == set(BOTH)]


def test_each_front_end_offers_exactly_its_declared_commands():
    top = {name for name in _cli_parsers() if " " not in name}
    assert top == {c.name for c in commands_for(CLI)}
    assert set(SUBCOMMANDS) == {c.name for c in commands_for(NOTEBOOK)}
    assert without_view() == []
    assert {"runs", "promote", "lineage"} <= set(_front_end_commands())


@pytest.mark.parametrize("name", _front_end_commands())
def test_cli_and_magic_expose_the_same_arguments(name):
    cli_args = _arguments(_cli_parsers()[name])
    magic_args = _arguments(SUBCOMMANDS[name].parser())
    one_sided = ONE_SIDED.get(name, {CLI: set(), NOTEBOOK: set()})
    assert set(cli_args) - set(magic_args) == one_sided[CLI], "an argument only the CLI offers"
    assert set(magic_args) - set(cli_args) == one_sided[NOTEBOOK], "an argument only %mlops offers"
    for dest in set(cli_args) & set(magic_args):
        assert _signature(cli_args[dest]) == _signature(magic_args[dest]), dest
        defaults = (cli_args[dest].default, magic_args[dest].default)
        expected = NOTEBOOK_DEFAULTS.get((name, dest), (defaults[0], defaults[0]))
        assert defaults == expected, f"{name} {dest}: defaults differ"


@pytest.mark.parametrize("words", sorted(_cli_parsers()))
def test_cli_parsers_hold_exactly_the_declared_arguments(words):
    command = COMMANDS[words.split()[0]]
    for action_name in words.split()[1:]:
        command = next(a for a in command.actions if a.name == action_name)
    declared = {a.dest: a for a in command.arguments_for(CLI)}
    parsed = _arguments(_cli_parsers()[words])
    assert set(parsed) == set(declared)
    for dest, action in parsed.items():
        flags = tuple(f for f in declared[dest].flags if f.startswith("-"))
        assert tuple(action.option_strings[: len(flags)]) == flags  # (+ --no-X of a boolean)


@pytest.mark.parametrize("name", sorted(SUBCOMMANDS))
def test_magic_parsers_hold_exactly_the_declared_arguments(name):
    declared = {a.dest for a in COMMANDS[name].arguments_for(NOTEBOOK)}
    assert set(_arguments(SUBCOMMANDS[name].parser())) == declared


def test_an_argument_one_front_end_lacks_takes_its_default_there():
    """So the shared domain call may read every declared argument."""
    args = SUBCOMMANDS["card"].parser().parse_args(["iris@champion"])
    assert args.out is None and args.print is False
    args = SUBCOMMANDS["monitor"].parser().parse_args(["iris"])
    assert args.json is False and args.watch is None and args.fail_on_alert is False
    assert _cli_parsers()["lineage"].parse_args(["x"]).text is False


@pytest.mark.parametrize("name", [c.name for c in commands_for(CLI)])
def test_cli_help_of_each_command_comes_from_its_declaration(name, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main([name, "--help"])
    assert info.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    command = COMMANDS[name]
    assert " ".join((command.description or command.help).split()) in out
    for a in command.arguments_for(CLI):
        assert a.flags[0] in out if a.flags[0].startswith("-") else True


@pytest.mark.parametrize("name", sorted(SUBCOMMANDS))
def test_magic_help_of_each_command_comes_from_its_declaration(name, mlops_shell, capsys):
    mlops_shell.run_line_magic("mlops", f"help {name}")
    out = " ".join(capsys.readouterr().out.split())
    command = COMMANDS[name]
    assert out.startswith(f"usage: %mlops {name}")
    assert " ".join((command.description or command.help).split()) in out
    for a in command.arguments_for(NOTEBOOK):
        assert a.flags[0] in out if a.flags[0].startswith("-") else True
    assert " ".join(help_for(name).split()) == out


def test_cli_top_level_help_lists_every_terminal_command(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    for command in commands_for(CLI):
        assert f"    {command.name} " in out
    for command in COMMANDS.values():
        if not command.offered_in(CLI):
            assert f"    {command.name} " not in out  # track, compare, dataset, env


def test_a_misspelled_cli_command_is_named_with_the_closest_one(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["rnus"])
    assert info.value.code == 2
    assert "unknown command 'rnus'; did you mean 'runs'?" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["agent", "stp"])
    assert "unknown command 'stp'; did you mean 'stop'?" in capsys.readouterr().err
    assert cli.main(["-C", "runs"]) == 0  # a folder named runs, not a command: the help shows
    assert "unknown command" not in capsys.readouterr().err


def test_the_magic_refuses_an_option_of_the_cli_alone():
    with pytest.raises(InvalidInput, match="unknown option --json"):
        SUBCOMMANDS["runs"].parser().parse_args(["--json"])


def test_a_declaration_the_terminal_could_not_run_is_refused():
    with pytest.raises(TypeError, match="the terminal needs"):
        Command("nothing", "does nothing")
    with pytest.raises(TypeError, match="--json is for cli"):
        Command("x", "y", (arg("--json", only=CLI),), front_ends=(NOTEBOOK,))


def test_declarations_and_the_cli_parser_import_no_notebook_or_server_library():
    code = (
        "import sys\n"
        "from jupyter_mlops.commands.catalog import COMMANDS\n"
        "from jupyter_mlops.cli import build_parser\n"
        "build_parser()\n"
        "print(sorted(m for m in ('IPython', 'ipywidgets', 'tornado', 'jupyter_server', "
        "'mlflow', 'pandas') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _named_functions() -> list[tuple[str, str, object]]:
    named: list[tuple[str, str, object]] = []
    for command in COMMANDS.values():
        for c in (command, *command.actions):
            for role in ("call", "show", "terminal"):
                if getattr(c, role) is not None:
                    named.append((c.name, role, getattr(c, role)))
            if c.name in VIEWS:
                named.append((c.name, "view", VIEWS[c.name]))
    return named


# the parameters each role is called with (the domain call may take front-end keywords after)
ROLE_PARAMETERS = {
    "call": ["gw", "args"],
    "show": [None, "args"],
    "terminal": ["args"],
    "view": ["ctx", "args", None],
}


@pytest.mark.parametrize(
    ("name", "role", "handler"), _named_functions(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_every_function_a_declaration_names_exists_and_takes_its_arguments(name, role, handler):
    function = load(handler)
    assert callable(function), f"{name}: {role} is not a function"
    params = list(inspect.signature(function).parameters)
    expected = ROLE_PARAMETERS[role]
    assert len(params) >= len(expected), f"{name}: {role}={function.__qualname__} takes {params}"
    for want, got in zip(expected, params, strict=False):
        assert want is None or want == got, f"{name}: {role} takes {params}"


def test_every_notebook_command_has_a_view_and_no_terminal_one_does():
    for command in COMMANDS.values():
        assert (command.name in VIEWS) == command.offered_in(NOTEBOOK), command.name
    assert set(VIEWS) <= set(COMMANDS)


def test_building_both_front_ends_imports_no_command_handler_or_view():
    """The declarations name their calls and views; building the parsers and help of both front
    ends must not import them (they import the domain: MLflow clients, numpy, widgets)."""
    code = (
        "import sys\n"
        "from jupyter_mlops.cli import build_parser\n"
        "from jupyter_mlops.notebook.subcommands import SUBCOMMANDS, help_text\n"
        "build_parser().format_help()\n"
        "help_text()\n"
        "print(sorted(m for m in sys.modules if m.startswith('jupyter_mlops') and "
        "m.endswith(('_calls', '_views', 'cell_tracking'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_command_of_the_other_front_end_says_where_it_runs(mlops_shell, capsys):
    from IPython.core.error import UsageError

    with pytest.raises(SystemExit) as info:
        cli.main(["track", "on"])
    assert info.value.code == 2
    assert "'track' is not a command here: it runs in a notebook, as %mlops track" in (
        capsys.readouterr().err
    )
    with pytest.raises(UsageError, match="'serve' runs in a terminal.*jupyter-mlops serve"):
        mlops_shell.run_line_magic("mlops", "serve iris")
    with pytest.raises(UsageError, match="'package' runs in a terminal"):
        mlops_shell.run_line_magic("mlops", "help package")


def test_dead_code_finder_sees_every_handler_used():
    """The declarations hand their functions over as real attribute reads after a real import,
    so vulture (like import-linter and mypy) sees each handler and view used."""
    handlers = {load(handler).__name__ for _, _, handler in _named_functions()}
    out = subprocess.run(
        [sys.executable, "-m", "vulture", "jupyter_mlops", "--min-confidence", "60"],
        capture_output=True,
        text=True,
        cwd=Path(cli.__file__).parents[1],
    )
    unused = re.findall(r"unused function '(\w+)'", out.stdout)
    assert sorted(set(unused) & handlers) == []
