"""What ``datasets``, ``lineage``, ``reproduce`` and ``env`` do and print in a terminal
(declared in ``datasets.py``)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..datasets.versions import list_versions
from ..errors import InvalidInput
from ..lineage.query import lineage as lineage_of
from ..reproduce.environment_diff import env_diff_runs
from ..reproduce.rerun import reproduce as rerun
from ..store.gateway import Gateway
from .texts import reproduction_text


def versions(gw: Gateway, args: argparse.Namespace) -> list[Any]:
    return list_versions(gw, args.name)


def versions_text(versions: list[Any], args: argparse.Namespace) -> int:
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


def lineage(gw: Gateway, args: argparse.Namespace) -> Any:
    if args.up and args.down:
        raise InvalidInput("--up and --down exclude each other", hint="omit both for both ways")
    direction = "up" if args.up else "down" if args.down else "both"
    return lineage_of(gw, args.ref, direction=direction)


def lineage_text(graph: Any, args: argparse.Namespace) -> int:
    if args.svg:
        with open(args.svg, "w", encoding="utf-8") as fh:
            fh.write(graph.to_svg())
    print(json.dumps(graph.to_dict(), indent=1) if args.json else graph.to_text())
    return 0


def reproduce(gw: Gateway, args: argparse.Namespace) -> Any:
    return rerun(
        gw,
        args.run,
        rtol=args.tolerance,
        timeout=args.timeout,
        check_environment=not args.ignore_env,
    )


def verdict_text(result: Any, args: argparse.Namespace) -> int:
    if args.json:
        print(json.dumps(result.__dict__, indent=1, default=str))
    else:
        print(reproduction_text(result))
    return 0 if result.verdict == "reproduced" else 1


def env_diff(gw: Gateway, args: argparse.Namespace) -> Any:
    return env_diff_runs(gw, *args.runs)
