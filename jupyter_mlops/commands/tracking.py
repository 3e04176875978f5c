"""``runs``, ``show``, ``sync``, ``experiments`` (terminal) and ``track``, ``compare`` (notebook).

What they do and print is in ``tracking_calls.py``, their notebook views in
``notebook/tracking_views.py`` and ``notebook/cell_tracking.py``, imported when one runs.
"""

from __future__ import annotations

from types import ModuleType

from .declaration import CLI, NOTEBOOK, Command, arg


def calls() -> ModuleType:
    """What these commands do and print (``tracking_calls.py``), imported when one runs."""
    from . import tracking_calls  # noqa: PLC0415 -- --help and %load_ext import no handler

    return tracking_calls


JSON = arg("--json", action="store_true", only=CLI, help="machine-readable output")

RUNS = Command(
    "runs",
    "recent runs, sortable by a metric (in a notebook, pick one for its details)",
    (
        arg("--experiment", "-e", help="only this experiment"),
        arg(
            "--limit",
            "-l",
            type=int,
            default=20,
            notebook={"default": 50},
            help="how many runs (default %(default)s)",
        ),
        arg("--sort", "-s", metavar="METRIC", help="sort by this metric, highest first"),
        JSON,
    ),
    call=lambda: calls().summaries,
    show=lambda: calls().runs_text,
)

SHOW = Command(
    "show",
    "one run in full: params, metrics, models, datasets, environment",
    (arg("run", help="run id, id prefix or name"), JSON),
    call=lambda: calls().detail,
    show=lambda: calls().show_text,
)

SYNC = Command(
    "sync",
    "send queued records to MLflow now (also those of dead kernels)",
    (
        arg("--timeout", type=float, default=60.0, only=CLI, help="seconds to wait for the agent"),
        arg(
            "--retry-failed",
            action="store_true",
            only=CLI,
            help="send the records MLflow refused again",
        ),
        arg(
            "--discard-failed",
            action="store_true",
            only=CLI,
            help="drop the records MLflow refused",
        ),
    ),
    call=lambda: calls().sync_now,
    terminal=lambda: calls().sync,
)

EXPERIMENTS = Command(
    "experiments", "list experiments", terminal=lambda: calls().experiments, front_ends=(CLI,)
)

TRACK = Command(
    "track",
    "record a cell as a run (%%mlops track), or every cell as steps of one run "
    "(%mlops track on|off)",
    (
        arg("mode", nargs="?", choices=["on", "off"], help="line form: start or stop session mode"),
        arg("--experiment", "-e", help="experiment name (default: the project's)"),
        arg("--name", "-n", help="run name (default: cell-<execution count>-<kernel id>)"),
        arg("--params", "-p", help="comma-separated variables to log as params (besides literals)"),
        arg("--metrics", "-m", help="comma-separated variables to log as metrics"),
        arg("--tags", "-t", nargs="+", metavar="KEY=VALUE", help="tags for the run"),
    ),
    front_ends=(NOTEBOOK,),
    cell=True,
)

COMPARE = Command(
    "compare",
    "runs side by side; differences highlighted, metrics charted",
    (arg("runs", nargs="+", help="two or more run ids"),),
    call=lambda: calls().compare,
    front_ends=(NOTEBOOK,),
)

COMMANDS = (RUNS, SHOW, SYNC, EXPERIMENTS, TRACK, COMPARE)
