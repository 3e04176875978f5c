"""``jupyter-mlops datasets|lineage|reproduce``."""

from __future__ import annotations

import argparse
import json


def _datasets(args: argparse.Namespace) -> int:
    from ..cli import workspace_from
    from ..datasets.registry import list_versions

    versions = list_versions(workspace_from(args), args.name)
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


def _lineage(args: argparse.Namespace) -> int:
    from ..cli import workspace_from
    from ..lineage.query import lineage

    direction = "up" if args.up else "down" if args.down else "both"
    graph = lineage(workspace_from(args), args.ref, direction=direction)
    if args.svg:
        with open(args.svg, "w", encoding="utf-8") as fh:
            fh.write(graph.to_svg())
    print(json.dumps(graph.to_dict(), indent=1) if args.json else graph.to_text())
    return 0


def _reproduce(args: argparse.Namespace) -> int:
    from ..cli import workspace_from
    from ..reproduce.rerun import reproduce

    result = reproduce(
        workspace_from(args),
        args.run,
        rtol=args.tolerance,
        timeout=args.timeout,
        check_environment=not args.ignore_env,
    )
    if args.json:
        print(json.dumps(result.__dict__, indent=1, default=str))
    else:
        print(result.to_text())
    return 0 if result.verdict == "reproduced" else 1


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("datasets", help="list dataset versions")
    p.add_argument("name", nargs="?", help="only this dataset")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_datasets)

    p = subparsers.add_parser(
        "lineage", help="what produced REF and what used it (runs, datasets, models, versions)"
    )
    p.add_argument(
        "ref",
        help="run id, NAME@VERSION or digest, m-<model id>, models:/NAME/VERSION or file:PATH",
    )
    way = p.add_mutually_exclusive_group()
    way.add_argument("--up", action="store_true", help="only what produced it")
    way.add_argument("--down", action="store_true", help="only what used it")
    p.add_argument("--json", action="store_true", help="nodes and edges as JSON")
    p.add_argument("--svg", metavar="FILE", help="also write the picture to FILE")
    p.set_defaults(func=_lineage)

    p = subparsers.add_parser(
        "reproduce",
        help="re-execute a run's recorded code in a fresh kernel and judge the result "
        "(exit 0 when reproduced, 1 when it differs or fails)",
    )
    p.add_argument("run", help="run id, key or name")
    p.add_argument("--tolerance", type=float, default=1e-6, help="relative metric tolerance")
    p.add_argument("--ignore-env", action="store_true", help="package differences do not decide")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds allowed per cell")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_reproduce)
