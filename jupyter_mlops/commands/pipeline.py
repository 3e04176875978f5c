"""``build`` (both front ends) and ``steps`` (terminal). What they do and print is in
``pipeline_calls.py``, the notebook view in ``notebook/pipeline_views.py``, imported when one
runs: ``jupyter-mlops build`` loads nothing else before it looks at the cache.
"""

from __future__ import annotations

from types import ModuleType

from .declaration import CLI, Command, arg


def calls() -> ModuleType:
    """What these commands do and print (``pipeline_calls.py``), imported when one runs."""
    from . import pipeline_calls  # noqa: PLC0415 -- --help and %load_ext import no handler

    return pipeline_calls


BUILD = Command(
    "build",
    "build the pipeline in mlops.yaml (cached, parallel, each step a tracked run)",
    (
        arg("steps", nargs="*", metavar="STEP", help="steps to build (and what they need)"),
        arg("--force", action="store_true", help="rerun even unchanged steps"),
        arg(
            "--only",
            metavar="STEP",
            help="build exactly this step; what it needs must be cached (one workflow task)",
        ),
        arg(
            "--trial",
            type=int,
            metavar="N",
            help="with --only: run only trial N of the step's sweep (a task of its own)",
        ),
        arg("--jobs", "-j", type=int, metavar="N", help="notebooks run at once"),
        arg("--executor", choices=["local", "dask"], default="local"),
        arg("--scheduler", metavar="ADDR", help="Dask scheduler address (tcp://host:port)"),
        arg(
            "--dry-run",
            "-n",
            action="store_true",
            help="say what would run and which part of its key changed",
        ),
        arg("--quiet", "-q", action="store_true", only=CLI, help="no progress, only the summary"),
    ),
    call=lambda: calls().build_call,
    terminal=lambda: calls().build,
    description="Run the notebooks of mlops.yaml in dependency order through papermill, "
    "skipping steps whose cache key is unchanged.",
)

STEPS = Command(
    "steps",
    "list the steps of mlops.yaml in build order",
    call=lambda: calls().steps_in_order,
    show=lambda: calls().steps_text,
    front_ends=(CLI,),
)

COMMANDS = (BUILD, STEPS)
