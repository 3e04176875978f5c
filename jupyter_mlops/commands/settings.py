"""``config`` (both front ends): every ``MLOPS_*`` setting, its value and where it came from.

What it does and prints is in ``settings_calls.py``, its notebook view in
``notebook/settings_views.py``, imported when it runs.
"""

from __future__ import annotations

from .declaration import CLI, Command, arg

CALLS = "jupyter_mlops.commands.settings_calls"
VIEWS = "jupyter_mlops.notebook.settings_views"

CONFIG = Command(
    "config",
    "list every MLOPS_* setting with its value and where it came from",
    (arg("--json", action="store_true", only=CLI, help="machine-readable output"),),
    call=f"{CALLS}:listing",
    show=f"{CALLS}:listing_text",
    view=f"{VIEWS}:listing",
    description=(
        "list every MLOPS_* setting with its value and where it came from: the environment, "
        "the settings: section of mlops.yaml (its experiment: key for the experiment), or the default"
    ),
)

COMMANDS = (CONFIG,)
