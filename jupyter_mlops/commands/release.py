"""``register|validate|card|promote|weight|rollback|history`` (both front ends), ``package|serve``
(terminal): the release pipeline's commands. What they do and print is in ``release_calls.py``,
their notebook views in ``notebook/release_views.py``, imported when one runs."""

from __future__ import annotations

import argparse
from types import ModuleType

from .declaration import CLI, Command, arg


def calls() -> ModuleType:
    """What these commands do and print (``release_calls.py``), imported when one runs."""
    from . import release_calls  # noqa: PLC0415 -- --help and %load_ext import no handler

    return release_calls


REGISTER = Command(
    "register",
    "register a run's model as a new version (alias candidate)",
    (
        arg("run", help="run id, id prefix, run key or run name"),
        arg("--name", help="registered model name (default: release.model in mlops.yaml)"),
        arg("--model", help="which logged model of the run, when it has several"),
        arg("--reason", help="recorded in the release history"),
    ),
    call=lambda: calls().register,
    show=lambda: calls().registered_text,
)


VALIDATE = Command(
    "validate",
    "run the release gates of mlops.yaml on a version and record the results",
    (arg("model"), arg("version", help="version number or alias"), arg("--reason")),
    call=lambda: calls().validate,
    show=lambda: calls().validation_text,
)


CARD = Command(
    "card",
    "write (and show) a version's model card",
    (
        arg("model", help="MODEL, MODEL@ALIAS or MODEL/VERSION"),
        arg("version", nargs="?"),
        arg("--out", only=CLI, help="also write the card files into this folder"),
        arg("--print", action="store_true", only=CLI, help="print the Markdown card"),
    ),
    call=lambda: calls().card,
    show=lambda: calls().card_text,
)


PACKAGE = Command(
    "package",
    "write a self-contained MLflow model folder with a Dockerfile",
    (
        arg("model"),
        arg("version"),
        arg("--out", required=True, metavar="DIR"),
        arg("--force", action="store_true", help="overwrite a non-empty DIR"),
    ),
    call=lambda: calls().package,
    show=lambda: calls().packaged_text,
    front_ends=(CLI,),
)


VERIFY = Command(
    "verify",
    "check a version's files against the signature made when it was registered",
    (arg("model"), arg("version", help="version number or alias")),
    call=lambda: calls().verify,
    show=lambda: calls().verified_text,
    front_ends=(CLI,),
)


PROMOTE = Command(
    "promote",
    "move a version to staging, canary (with --weight) or champion; gates must have passed",
    (
        arg("model"),
        arg("version"),
        arg("--to", required=True, choices=["staging", "canary", "champion"]),
        arg("--weight", type=float, metavar="PCT", help="canary share of traffic, 0-100"),
        arg(
            "--shadow",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="the canary scores its share of traffic but never answers (--no-shadow: it answers)",
        ),
        arg("--force", action="store_true", help="promote despite failed gates (needs --reason)"),
        arg("--reason"),
    ),
    call=lambda: calls().promote,
    show=lambda: calls().described,
)


WEIGHT = Command(
    "weight",
    "change the canary's share of traffic (it keeps its alias)",
    (arg("model"), arg("percent", type=float, metavar="PCT", help="0-100"), arg("--reason")),
    call=lambda: calls().weight,
    show=lambda: calls().described,
)


ROLLBACK = Command(
    "rollback",
    "drop the canary, or restore the previous champion when there is no canary",
    (
        arg("model"),
        arg("--reason"),
        arg("--target", choices=["auto", "canary", "champion"], default="auto"),
    ),
    call=lambda: calls().rollback,
    show=lambda: calls().described,
)


HISTORY = Command(
    "history",
    "the release audit trail of a model: who did what, when and why",
    (arg("model"), arg("--json", action="store_true", only=CLI, help="machine-readable output")),
    call=lambda: calls().history,
    show=lambda: calls().history_text,
)


SERVE = Command(
    "serve",
    "serve a model's champion and canary over HTTP",
    (
        arg("model"),
        arg("--host", default="127.0.0.1"),
        arg("--port", type=int, default=5001),
        arg("--max-body-mb", type=float, default=16.0),
        arg("--poll", type=float, default=0.25, help="registry poll interval in seconds"),
        arg(
            "--guard",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="run the canary guard: roll back a canary worse than the champion "
            "(default: monitor.canary.guard in mlops.yaml)",
        ),
        arg(
            "--sticky-header",
            default="x-request-key",
            metavar="NAME",
            help="requests carrying this header always reach the same version ('' turns it off)",
        ),
    ),
    terminal=lambda: calls().serve,
    front_ends=(CLI,),
)

COMMANDS = (REGISTER, VALIDATE, CARD, PACKAGE, VERIFY, PROMOTE, WEIGHT, ROLLBACK, HISTORY, SERVE)
