"""``%mlops register|validate|card|promote|rollback|history``: thin adapters over ``release``."""

from __future__ import annotations

import argparse
from typing import Any

from .subcommands import arg, subcommand


def _html(html: str) -> None:
    from IPython.display import HTML, display

    display(HTML(html))


@subcommand(
    "register",
    "Register a run's model as a new version of MODEL with alias candidate.",
    arg("run", help="run id, id prefix, run key or run name"),
    arg("--name", help="registered model name (default: release.model in mlops.yaml)"),
    arg("--model", help="which logged model of the run, when it has several"),
    arg("--reason", help="recorded in the release history"),
)
def register_cmd(ctx: Any, args: Any, cell: str | None) -> Any:
    from ..release.registry import register

    mv = register(ctx.workspace, args.run, args.name, model_name=args.model, reason=args.reason)
    print(
        f"registered {mv.name} v{mv.version} (alias candidate); next: %mlops validate {mv.name} {mv.version}"
    )
    return None


@subcommand(
    "validate",
    "Run the release gates of mlops.yaml on a model version and record the results.",
    arg("model"),
    arg("version", help="version number or alias"),
    arg("--reason"),
)
def validate_cmd(ctx: Any, args: Any, cell: str | None) -> Any:
    from ..release.validation import validate

    report = validate(ctx.workspace, args.model, args.version, reason=args.reason)
    _html(report.html())
    return None


@subcommand(
    "card",
    "Show the model card of MODEL@ALIAS (or MODEL VERSION), writing it if needed.",
    arg("model", help="MODEL@ALIAS, MODEL/VERSION or MODEL"),
    arg("version", nargs="?"),
)
def card_cmd(ctx: Any, args: Any, cell: str | None) -> Any:
    from ..release.card import write_card
    from ..release.registry import resolve

    mv = resolve(ctx.workspace, args.model, args.version)
    card = write_card(ctx.workspace, mv.name, mv.version)
    _html(card.html)
    return None


@subcommand(
    "promote",
    "Move a version to staging, canary (with --weight) or champion; gates must have passed.",
    arg("model"),
    arg("version"),
    arg("--to", required=True, choices=["staging", "canary", "champion"]),
    arg("--weight", type=float, help="canary share of traffic, 0-100"),
    arg(
        "--shadow",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="the canary scores its share of traffic but never answers (--no-shadow: it answers)",
    ),
    arg("--force", action="store_true", help="override failed gates (needs --reason)"),
    arg("--reason"),
)
def promote_cmd(ctx: Any, args: Any, cell: str | None) -> Any:
    from ..release.rollout import promote

    st = promote(
        ctx.workspace,
        args.model,
        args.version,
        args.to,
        weight=args.weight,
        force=args.force,
        reason=args.reason,
        shadow=args.shadow,
    )
    print(st.describe())
    return None


@subcommand(
    "rollback",
    "Drop MODEL's canary, or restore its previous champion when there is no canary.",
    arg("model"),
    arg("--reason"),
    arg("--target", choices=["auto", "canary", "champion"], default="auto"),
)
def rollback_cmd(ctx: Any, args: Any, cell: str | None) -> Any:
    from ..release.rollout import rollback

    print(rollback(ctx.workspace, args.model, reason=args.reason, target=args.target).describe())
    return None


@subcommand(
    "history",
    "The release audit trail of MODEL: who did what, when and why.",
    arg("model"),
)
def history_cmd(ctx: Any, args: Any, cell: str | None) -> Any:
    from ..release.history import events, format_history
    from ..release.rollout import state

    ws = ctx.workspace
    print(state(ws, args.model).describe())
    print(format_history(events(ws, args.model)))
    return None
