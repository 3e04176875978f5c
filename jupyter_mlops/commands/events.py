"""``events [--state S] [--limit N] [--retry-failed]``: the webhooks and their recent deliveries.

What it does and prints is in ``events_calls.py``, the notebook view in
``notebook/event_views.py``, imported when it runs.
"""

from __future__ import annotations

from types import ModuleType

from .declaration import CLI, Command, arg


def calls() -> ModuleType:
    """What this command does and prints (``events_calls.py``), imported when it runs."""
    from . import events_calls  # noqa: PLC0415 -- --help and %load_ext import no handler

    return events_calls


EVENTS = Command(
    "events",
    "webhook deliveries of events (runs finished, versions registered, aliases moved, alerts...)",
    (
        arg(
            "--limit", "-n", type=int, default=20, help="how many deliveries (default %(default)s)"
        ),
        arg(
            "--state",
            choices=["pending", "delivered", "failed"],
            help="only deliveries in this state",
        ),
        arg("--retry-failed", action="store_true", help="put failed deliveries back in line"),
        arg("--json", action="store_true", only=CLI, help="machine-readable output"),
    ),
    call=lambda: calls().status,
    show=lambda: calls().status_text,
    description="The webhooks declared under events: in mlops.yaml and the newest deliveries, "
    "each pending, delivered or failed, with its attempts and last answer. Deliveries are made "
    "by the sync agent; this starts it when some wait and none runs.",
)

COMMANDS = (EVENTS,)
