"""``monitor MODEL [--window 1h] [--guard]``: the report; the terminal adds ``--watch`` and
``--json``, the notebook plots it. ``monitor labels MODEL FILE`` brings late labels in. What it
does is in ``monitor_calls.py``, the notebook view in ``notebook/monitor_views.py``, imported
when it runs."""

from __future__ import annotations

from types import ModuleType

from .declaration import CLI, NOTEBOOK, Command, arg


def calls() -> ModuleType:
    """What these commands do and print (``monitor_calls.py``), imported when one runs."""
    from . import monitor_calls  # noqa: PLC0415 -- --help and %load_ext import no handler

    return monitor_calls


MONITOR = Command(
    "monitor",
    "health, drift and canary verdict of a served model, from its prediction log",
    (
        arg(
            "model",
            metavar="MODEL|labels",
            help="a registered model; or `labels MODEL FILE`: join late labels (a CSV or Parquet "
            "file with a request id and a label per row) to the model's prediction log",
        ),
        arg("labels", nargs="*", metavar="MODEL FILE", help="with `labels`: the model and file"),
        arg(
            "--window",
            "-w",
            help="time window ending now, e.g. 15m, 1h, 2d "
            "(default: monitor.window in mlops.yaml, else 1h)",
        ),
        arg(
            "--guard",
            action="store_true",
            help="roll the canary back when it is worse than the champion",
        ),
        arg("--watch", metavar="INTERVAL", only=CLI, help="repeat every INTERVAL (e.g. 30s)"),
        arg("--no-record", action="store_true", help="do not record a monitoring run"),
        arg("--fail-on-alert", action="store_true", only=CLI, help="exit 1 when there are alerts"),
        arg("--json", action="store_true", only=CLI, help="machine-readable output"),
        arg("--no-plot", action="store_true", only=NOTEBOOK, help="text only"),
        arg(
            "--id-column",
            default="request_id",
            metavar="NAME",
            help="labels: the request id column (default %(default)s)",
        ),
        arg(
            "--label-column",
            default="label",
            metavar="NAME",
            help="labels: the label column (default %(default)s)",
        ),
        arg(
            "--row-column",
            default="row",
            metavar="NAME",
            help="labels: the predicted row of a batch request, when there is one (default %(default)s)",
        ),
    ),
    description="Health, drift, quality and the canary verdict of a served model, from its "
    "prediction log (and the late labels joined to it). `monitor labels MODEL FILE` reads "
    "labels that arrived after the predictions and keeps them where every monitor reads them.",
    call=lambda: calls().report,
    terminal=lambda: calls().monitor,
)

COMMANDS = (MONITOR,)
