"""``%mlops register|validate|card|promote|rollback|history`` in a notebook: the gate report and
the model card as HTML, the rest as text."""

from __future__ import annotations

import argparse
from typing import Any

from ..commands.release import CARD, HISTORY, PROMOTE, REGISTER, ROLLBACK, VALIDATE
from .subcommands import view


def _html(html: str) -> None:
    from IPython.display import HTML, display

    display(HTML(html))


@view(REGISTER)
def registered(ctx: Any, args: argparse.Namespace, mv: Any) -> None:
    print(
        f"registered {mv.name} v{mv.version} (alias candidate); next: %mlops validate {mv.name} {mv.version}"
    )


@view(VALIDATE)
def validation(ctx: Any, args: argparse.Namespace, report: Any) -> None:
    _html(report.html())


@view(CARD)
def card(ctx: Any, args: argparse.Namespace, written: tuple[Any, Any]) -> None:
    _mv, model_card = written
    _html(model_card.html)


@view(PROMOTE)
@view(ROLLBACK)
def rollout_state(ctx: Any, args: argparse.Namespace, state: Any) -> None:
    print(state.describe())


@view(HISTORY)
def history(ctx: Any, args: argparse.Namespace, trail: tuple[Any, list[Any]]) -> None:
    from ..release.history import format_history

    state, events = trail
    print(state.describe())
    print(format_history(events))
