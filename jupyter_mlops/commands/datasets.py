"""``datasets|lineage|reproduce`` (both front ends) and ``dataset|env`` (notebook).

What they do and print is in ``datasets_calls.py``, their notebook views in
``notebook/dataset_views.py``, imported when one runs.
"""

from __future__ import annotations

from types import ModuleType

from .declaration import CLI, NOTEBOOK, Command, arg


def calls() -> ModuleType:
    """What these commands do and print (``datasets_calls.py``), imported when one runs."""
    from . import datasets_calls  # noqa: PLC0415 -- --help and %load_ext import no handler

    return datasets_calls


DATASETS = Command(
    "datasets",
    "list dataset versions (all, or those of NAME), oldest first",
    (
        arg("name", nargs="?", help="only this dataset"),
        arg("--json", action="store_true", only=CLI, help="machine-readable output"),
    ),
    call=lambda: calls().versions,
    show=lambda: calls().versions_text,
    flush_first=True,
)


LINEAGE = Command(
    "lineage",
    "what produced REF and what used it (runs, datasets, models, versions)",
    (
        arg(
            "ref",
            help="run id, NAME@VERSION or digest, m-<model id>, models:/NAME/VERSION or file:PATH",
        ),
        arg("--up", action="store_true", help="only what produced it"),
        arg("--down", action="store_true", help="only what used it"),
        arg("--json", action="store_true", only=CLI, help="nodes and edges as JSON"),
        arg("--svg", metavar="FILE", only=CLI, help="also write the picture to FILE"),
        arg(
            "--text",
            action="store_true",
            only=NOTEBOOK,
            help="print the graph as text instead of drawing it",
        ),
    ),
    call=lambda: calls().lineage,
    show=lambda: calls().lineage_text,
    flush_first=True,
)


REPRODUCE = Command(
    "reproduce",
    "re-execute a run's recorded code in a fresh kernel and judge the result "
    "(exit 0 when reproduced, 1 when it differs or fails)",
    (
        arg("run", help="run id, key or name"),
        arg(
            "--tolerance",
            type=float,
            default=1e-6,
            help="relative metric tolerance (default %(default)s)",
        ),
        arg("--ignore-env", action="store_true", help="package differences do not decide"),
        arg(
            "--timeout",
            type=float,
            default=600.0,
            help="seconds allowed per cell (default %(default)s)",
        ),
        arg("--json", action="store_true", only=CLI, help="machine-readable output"),
    ),
    call=lambda: calls().reproduce,
    show=lambda: calls().verdict_text,
    flush_first=True,
    description="Re-execute a run's recorded code in a fresh kernel and compare its metrics, "
    "datasets and packages with the original; records a linked reproduction run with the "
    "verdict (exit 0 when reproduced, 1 when it differs or fails).",
)

DATASET = Command(
    "dataset",
    "log a DataFrame as a dataset version (`%mlops dataset EXPR`), or compare two versions "
    "(`%mlops dataset diff A B`, each a NAME@VERSION, digest or variable)",
    (
        arg("words", nargs="+", metavar="EXPR | diff A B"),
        arg(
            "--name", "-n", help="dataset name (default: the expression, if it is a variable name)"
        ),
        arg("--context", "-c", help="how the run uses it: training, validation, test, ..."),
    ),
    front_ends=(NOTEBOOK,),
)

ENV = Command(
    "env",
    "`%mlops env diff RUN RUN`: interpreter, hardware and package versions of two runs compared",
    (arg("action", choices=["diff"]), arg("runs", nargs=2, metavar="RUN")),
    call=lambda: calls().env_diff,
    flush_first=True,
    front_ends=(NOTEBOOK,),
)

COMMANDS = (DATASETS, LINEAGE, REPRODUCE, DATASET, ENV)
