"""``%mlops build`` in a notebook: progress as a widget while it runs, the summary as text."""

from __future__ import annotations

import argparse
from typing import Any

from ..commands.pipeline import BUILD
from .subcommands import view


@view(BUILD)
def build(ctx: Any, args: argparse.Namespace, report: Any) -> None:
    print(report.table())
