"""The notebook's view of each ``%mlops`` command: how a cell shows the command's result.

The notebook front end fills this table itself, so a command's declaration (``commands/``, a
layer below) never names a notebook module. Each view module is imported when one of its
commands first runs (``%load_ext`` imports none of them), by an import statement inside the
function below that names it: import-linter, mypy and vulture see the edge and the view used.
A view is ``view(ctx, args, result)`` and returns the cell's value.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from types import ModuleType
from typing import Any

View = Callable[[Any, argparse.Namespace, Any], Any]


def _tracking() -> ModuleType:
    from . import tracking_views  # noqa: PLC0415 -- imported when one of its commands runs

    return tracking_views


def _cell_tracking() -> ModuleType:
    from . import cell_tracking  # noqa: PLC0415 -- imported when one of its commands runs

    return cell_tracking


def _pipeline() -> ModuleType:
    from . import pipeline_views  # noqa: PLC0415 -- imported when one of its commands runs

    return pipeline_views


def _monitor() -> ModuleType:
    from . import monitor_views  # noqa: PLC0415 -- imported when one of its commands runs

    return monitor_views


def _release() -> ModuleType:
    from . import release_views  # noqa: PLC0415 -- imported when one of its commands runs

    return release_views


def _dataset() -> ModuleType:
    from . import dataset_views  # noqa: PLC0415 -- imported when one of its commands runs

    return dataset_views


def _approval() -> ModuleType:
    from . import approval_views  # noqa: PLC0415 -- imported when one of its commands runs

    return approval_views


def _event() -> ModuleType:
    from . import event_views  # noqa: PLC0415 -- imported when one of its commands runs

    return event_views


def _settings() -> ModuleType:
    from . import settings_views  # noqa: PLC0415 -- imported when one of its commands runs

    return settings_views


# command name -> its view, looked up when the command runs
VIEWS: dict[str, Callable[[], View]] = {
    "runs": lambda: _tracking().runs,
    "show": lambda: _tracking().show,
    "sync": lambda: _tracking().sync,
    "compare": lambda: _tracking().compare,
    "track": lambda: _cell_tracking().track,
    "build": lambda: _pipeline().build,
    "monitor": lambda: _monitor().monitor,
    "register": lambda: _release().registered,
    "validate": lambda: _release().validation,
    "card": lambda: _release().card,
    "promote": lambda: _release().rollout_state,
    "weight": lambda: _release().rollout_state,
    "rollback": lambda: _release().rollout_state,
    "history": lambda: _release().history,
    "datasets": lambda: _dataset().datasets,
    "lineage": lambda: _dataset().lineage,
    "reproduce": lambda: _dataset().reproduce,
    "dataset": lambda: _dataset().dataset,
    "env": lambda: _dataset().env,
    "approve": lambda: _approval().approval,
    "reject": lambda: _approval().approval,
    "request-approval": lambda: _approval().approval,
    "approvals": lambda: _approval().approvals,
    "events": lambda: _event().events,
    "config": lambda: _settings().listing,
}
