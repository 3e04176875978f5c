"""``register|validate|card|promote|rollback|history`` (both front ends), ``package|serve``
(terminal): the release pipeline's commands, with their terminal output. The notebook's HTML
views are in ``notebook/release_views.py``."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..workspace import Workspace
from .declaration import CLI, Command, arg
from .terminal import workspace_from


def _register(ws: Workspace, args: argparse.Namespace) -> Any:
    from ..release.registry import register

    return register(ws, args.run, args.name, model_name=args.model, reason=args.reason)


def _registered_text(mv: Any, args: argparse.Namespace) -> int:
    print(f"registered {mv.name} v{mv.version} from run {mv.run_id} (alias: candidate)")
    print(f"next: jupyter-mlops validate {mv.name} {mv.version}")
    return 0


REGISTER = Command(
    "register",
    "register a run's model as a new version (alias candidate)",
    (
        arg("run", help="run id, id prefix, run key or run name"),
        arg("--name", help="registered model name (default: release.model in mlops.yaml)"),
        arg("--model", help="which logged model of the run, when it has several"),
        arg("--reason", help="recorded in the release history"),
    ),
    call=_register,
    show=_registered_text,
)


def _validate(ws: Workspace, args: argparse.Namespace) -> Any:
    from ..release.validation import validate

    return validate(ws, args.model, args.version, reason=args.reason)


def _validation_text(report: Any, args: argparse.Namespace) -> int:
    print(report.text())
    return 0 if report.passed else 5


VALIDATE = Command(
    "validate",
    "run the release gates of mlops.yaml on a version and record the results",
    (arg("model"), arg("version", help="version number or alias"), arg("--reason")),
    call=_validate,
    show=_validation_text,
)


def _card(ws: Workspace, args: argparse.Namespace) -> tuple[Any, Any]:
    from ..release.card import write_card
    from ..release.registry import resolve

    mv = resolve(ws, args.model, args.version)
    return mv, write_card(ws, mv.name, mv.version, out_dir=args.out)


def _card_text(written: tuple[Any, Any], args: argparse.Namespace) -> int:
    mv, card = written
    print(card.markdown if args.print else f"model card of {mv.name} v{mv.version}: {card.md_path}")
    return 0


CARD = Command(
    "card",
    "write (and show) a version's model card",
    (
        arg("model", help="MODEL, MODEL@ALIAS or MODEL/VERSION"),
        arg("version", nargs="?"),
        arg("--out", only=CLI, help="also write the card files into this folder"),
        arg("--print", action="store_true", only=CLI, help="print the Markdown card"),
    ),
    call=_card,
    show=_card_text,
)


def _package(ws: Workspace, args: argparse.Namespace) -> Any:
    from ..release.package import package

    return package(ws, args.model, args.version, args.out, force=args.force)


def _packaged_text(out: Any, args: argparse.Namespace) -> int:
    print(f"packaged {args.model} v{args.version} into {out}")
    print(f"  docker build -t {args.model.lower()}:{args.version} {out}")
    return 0


PACKAGE = Command(
    "package",
    "write a self-contained MLflow model folder with a Dockerfile",
    (
        arg("model"),
        arg("version"),
        arg("--out", required=True, metavar="DIR"),
        arg("--force", action="store_true", help="overwrite a non-empty DIR"),
    ),
    call=_package,
    show=_packaged_text,
    front_ends=(CLI,),
)


def _promote(ws: Workspace, args: argparse.Namespace) -> Any:
    from ..release.rollout import promote

    return promote(
        ws,
        args.model,
        args.version,
        args.to,
        weight=args.weight,
        force=args.force,
        reason=args.reason,
        shadow=args.shadow,
    )


def _described(state: Any, args: argparse.Namespace) -> int:
    print(state.describe())
    return 0


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
    call=_promote,
    show=_described,
)


def _rollback(ws: Workspace, args: argparse.Namespace) -> Any:
    from ..release.rollout import rollback

    return rollback(ws, args.model, reason=args.reason, target=args.target)


ROLLBACK = Command(
    "rollback",
    "drop the canary, or restore the previous champion when there is no canary",
    (
        arg("model"),
        arg("--reason"),
        arg("--target", choices=["auto", "canary", "champion"], default="auto"),
    ),
    call=_rollback,
    show=_described,
)


def _history(ws: Workspace, args: argparse.Namespace) -> tuple[Any, list[Any]]:
    """The model's rollout state and its release events, oldest first."""
    from ..release.history import events
    from ..release.rollout import state

    evts = events(ws, args.model)
    return (None if args.json else state(ws, args.model)), evts


def _history_text(trail: tuple[Any, list[Any]], args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from ..release.history import format_history

    state, evts = trail
    if args.json:
        print(json.dumps([asdict(e) for e in evts], indent=1))
        return 0
    print(state.describe())
    print(format_history(evts))
    return 0


HISTORY = Command(
    "history",
    "the release audit trail of a model: who did what, when and why",
    (arg("model"), arg("--json", action="store_true", only=CLI, help="machine-readable output")),
    call=_history,
    show=_history_text,
)


def _serve(args: argparse.Namespace) -> int:
    from ..release.registry import get_registered_model
    from ..serving.server import serve

    ws = workspace_from(args)
    get_registered_model(ws, args.model)  # refuse an unknown model before saying "serving"
    print(
        f"serving {args.model} on http://{args.host}:{args.port} (champion + canary; Ctrl-C stops)"
    )
    serve(
        ws,
        args.model,
        host=args.host,
        port=args.port,
        max_body=int(args.max_body_mb * 1024 * 1024),
        poll_interval=args.poll,
        guard=args.guard,
        sticky_header=args.sticky_header or None,
    )
    return 0


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
    terminal=_serve,
    front_ends=(CLI,),
)

COMMANDS = (REGISTER, VALIDATE, CARD, PACKAGE, PROMOTE, ROLLBACK, HISTORY, SERVE)
