"""``%mlops register|validate|card|promote|rollback|history`` in a notebook: the gate report and
the model card as HTML, the rest as text. Each declaration in ``commands/release.py`` names its
view here."""

from __future__ import annotations

import argparse
from typing import Any

from IPython.display import HTML, display

from ..release.history import format_history


def _html(html: str) -> None:
    display(HTML(html))


def registered(ctx: Any, args: argparse.Namespace, mv: Any) -> None:
    print(
        f"registered {mv.name} v{mv.version} (alias candidate); next: %mlops validate {mv.name} {mv.version}"
    )


def validation(ctx: Any, args: argparse.Namespace, report: Any) -> None:
    _html(report.html())


def card(ctx: Any, args: argparse.Namespace, written: tuple[Any, Any]) -> None:
    _mv, model_card = written
    _html(model_card.html)


def rollout_state(ctx: Any, args: argparse.Namespace, state: Any) -> None:
    print(state.describe())


def history(ctx: Any, args: argparse.Namespace, trail: tuple[Any, list[Any]]) -> None:
    state, events = trail
    print(state.describe())
    print(format_history(events))
