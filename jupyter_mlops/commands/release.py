"""``register|validate|card|promote|rollback|history`` (both front ends), ``package|serve``
(terminal): the release pipeline's commands. What they do and print is in ``release_calls.py``,
their notebook views in ``notebook/release_views.py``, imported when one runs."""

from __future__ import annotations

import argparse

from .declaration import CLI, Command, arg

CALLS = "jupyter_mlops.commands.release_calls"
VIEWS = "jupyter_mlops.notebook.release_views"


REGISTER = Command(
    "register",
    "register a run's model as a new version (alias candidate)",
    (
        arg("run", help="run id, id prefix, run key or run name"),
        arg("--name", help="registered model name (default: release.model in mlops.yaml)"),
        arg("--model", help="which logged model of the run, when it has several"),
        arg("--reason", help="recorded in the release history"),
    ),
    call=f"{CALLS}:register",
    show=f"{CALLS}:registered_text",
    view=f"{VIEWS}:registered",
)


VALIDATE = Command(
    "validate",
    "run the release gates of mlops.yaml on a version and record the results",
    (arg("model"), arg("version", help="version number or alias"), arg("--reason")),
    call=f"{CALLS}:validate",
    show=f"{CALLS}:validation_text",
    view=f"{VIEWS}:validation",
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
    call=f"{CALLS}:card",
    show=f"{CALLS}:card_text",
    view=f"{VIEWS}:card",
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
    call=f"{CALLS}:package",
    show=f"{CALLS}:packaged_text",
    front_ends=(CLI,),
)


VERIFY = Command(
    "verify",
    "check a version's files against the signature made when it was registered",
    (arg("model"), arg("version", help="version number or alias")),
    call=f"{CALLS}:verify",
    show=f"{CALLS}:verified_text",
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
    call=f"{CALLS}:promote",
    show=f"{CALLS}:described",
    view=f"{VIEWS}:rollout_state",
)


ROLLBACK = Command(
    "rollback",
    "drop the canary, or restore the previous champion when there is no canary",
    (
        arg("model"),
        arg("--reason"),
        arg("--target", choices=["auto", "canary", "champion"], default="auto"),
    ),
    call=f"{CALLS}:rollback",
    show=f"{CALLS}:described",
    view=f"{VIEWS}:rollout_state",
)


HISTORY = Command(
    "history",
    "the release audit trail of a model: who did what, when and why",
    (arg("model"), arg("--json", action="store_true", only=CLI, help="machine-readable output")),
    call=f"{CALLS}:history",
    show=f"{CALLS}:history_text",
    view=f"{VIEWS}:history",
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
    terminal=f"{CALLS}:serve",
    front_ends=(CLI,),
)

COMMANDS = (REGISTER, VALIDATE, CARD, PACKAGE, VERIFY, PROMOTE, ROLLBACK, HISTORY, SERVE)
