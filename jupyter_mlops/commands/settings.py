"""``config`` (both front ends): every ``MLOPS_*`` setting, its value and where it came from.

What it does and prints is in ``settings_calls.py``, its notebook view in
``notebook/settings_views.py``, imported when it runs.
"""

from __future__ import annotations

from types import ModuleType

from .declaration import CLI, Command, arg


def calls() -> ModuleType:
    """What these commands do and print (``settings_calls.py``), imported when one runs."""
    from . import settings_calls  # noqa: PLC0415 -- --help and %load_ext import no handler

    return settings_calls


CONFIG = Command(
    "config",
    "list every MLOPS_* setting with its value and where it came from",
    (arg("--json", action="store_true", only=CLI, help="machine-readable output"),),
    call=lambda: calls().listing,
    show=lambda: calls().listing_text,
    description=(
        "list every MLOPS_* setting with its value and where it came from: the environment, "
        "the settings: section of mlops.yaml (its experiment: key for the experiment), or the default"
    ),
)

COMMANDS = (CONFIG,)
