"""``%mlops config``: the settings table (``commands/settings.py`` names this view)."""

from __future__ import annotations

import argparse
from typing import Any

from ..commands.settings_calls import table


def listing(ctx: Any, args: argparse.Namespace, rows: list[dict[str, Any]]) -> None:
    print(table(rows))
