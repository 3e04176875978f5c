"""``%mlops build`` in a notebook: progress as a widget while it runs, the summary as text.

``commands/pipeline.py`` names this view."""

from __future__ import annotations

import argparse
from typing import Any


def build(ctx: Any, args: argparse.Namespace, report: Any) -> None:
    print(report.table())
