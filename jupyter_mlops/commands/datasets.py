"""``datasets|lineage|reproduce`` (both front ends) and ``dataset|env`` (notebook), with their
terminal output. The notebook's views are in ``notebook/dataset_views.py``."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..errors import InvalidInput
from ..workspace import Workspace
from .declaration import CLI, NOTEBOOK, Command, arg


def _versions(ws: Workspace, args: argparse.Namespace) -> list[Any]:
    from ..datasets.registry import list_versions

    return list_versions(ws, args.name)


def _versions_text(versions: list[Any], args: argparse.Namespace) -> int:
    if args.json:
        print(json.dumps([{**v.__dict__, "ref": v.ref} for v in versions], indent=1))
        return 0
    if not versions:
        print("no dataset versions yet")
        return 0
    print(f"{'version':<30} {'digest':<14} {'rows':>10} {'cols':>5}  source")
    for v in versions:
        print(
            f"{v.name + '@' + str(v.version):<30} {v.digest[:12]:<14} {v.rows or '':>10} "
            f"{v.columns or '':>5}  {v.source.get('file', '')}"
        )
    return 0


DATASETS = Command(
    "datasets",
    "list dataset versions (all, or those of NAME), oldest first",
    (
        arg("name", nargs="?", help="only this dataset"),
        arg("--json", action="store_true", only=CLI, help="machine-readable output"),
    ),
    call=_versions,
    show=_versions_text,
)


def _lineage(ws: Workspace, args: argparse.Namespace) -> Any:
    from ..lineage.query import lineage

    if args.up and args.down:
        raise InvalidInput("--up and --down exclude each other", hint="omit both for both ways")
    direction = "up" if args.up else "down" if args.down else "both"
    return lineage(ws, args.ref, direction=direction)


def _lineage_text(graph: Any, args: argparse.Namespace) -> int:
    if args.svg:
        with open(args.svg, "w", encoding="utf-8") as fh:
            fh.write(graph.to_svg())
    print(json.dumps(graph.to_dict(), indent=1) if args.json else graph.to_text())
    return 0


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
    call=_lineage,
    show=_lineage_text,
)


def _reproduce(ws: Workspace, args: argparse.Namespace) -> Any:
    from ..reproduce.rerun import reproduce

    return reproduce(
        ws,
        args.run,
        rtol=args.tolerance,
        timeout=args.timeout,
        check_environment=not args.ignore_env,
    )


def _verdict_text(result: Any, args: argparse.Namespace) -> int:
    if args.json:
        print(json.dumps(result.__dict__, indent=1, default=str))
    else:
        print(result.to_text())
    return 0 if result.verdict == "reproduced" else 1


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
    call=_reproduce,
    show=_verdict_text,
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


def _env_diff(ws: Workspace, args: argparse.Namespace) -> Any:
    from ..reproduce.environment_diff import env_diff_runs

    return env_diff_runs(ws, *args.runs)


ENV = Command(
    "env",
    "`%mlops env diff RUN RUN`: interpreter, hardware and package versions of two runs compared",
    (arg("action", choices=["diff"]), arg("runs", nargs=2, metavar="RUN")),
    call=_env_diff,
    front_ends=(NOTEBOOK,),
)

COMMANDS = (DATASETS, LINEAGE, REPRODUCE, DATASET, ENV)
