"""``%mlops events``: the webhooks and their recent deliveries, as text.

``notebook/views.py`` names this view."""

from __future__ import annotations

import argparse
from typing import Any


def events(ctx: Any, args: argparse.Namespace, status: Any) -> Any:
    print(status.to_text())
    return status
