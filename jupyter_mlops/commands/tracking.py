"""``runs``, ``show``, ``sync``, ``experiments`` (terminal) and ``track``, ``compare`` (notebook)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..store.runs import key_metrics
from ..tags import ERROR_TAG, ERROR_TYPE_TAG, WARNINGS_TAG
from ..workspace import Workspace
from .declaration import CLI, NOTEBOOK, Command, arg
from .terminal import workspace_from

JSON = arg("--json", action="store_true", only=CLI, help="machine-readable output")


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    def fmt(v: Any) -> str:
        return f"{v:.6g}" if isinstance(v, float) else ("" if v is None else str(v))

    cells = [[fmt(v) for v in row] for row in rows]
    widths = [
        max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)
    ]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    body = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join([line, "-" * len(line), *body])


def _summaries(ws: Workspace, args: argparse.Namespace) -> list[dict[str, Any]]:
    from ..store.runs import summaries

    return summaries(ws, experiment=args.experiment, limit=args.limit, sort=args.sort)


def _runs_text(runs: list[dict[str, Any]], args: argparse.Namespace) -> int:
    if args.json:
        print(json.dumps(runs, indent=1))
        return 0
    keys = key_metrics(runs)
    rows = [
        [r["run_id"][:12], r["name"], r["kind"], r["status"], *[r["metrics"].get(k) for k in keys]]
        for r in runs
    ]
    print(_table(["run", "name", "kind", "status", *keys], rows) if runs else "no runs yet")
    return 0


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
    call=_summaries,
    show=_runs_text,
)


def _detail(ws: Workspace, args: argparse.Namespace) -> dict[str, Any]:
    from ..store.run_details import run_detail

    return run_detail(ws, args.run)


def _show_text(detail: dict[str, Any], args: argparse.Namespace) -> int:
    if args.json:
        print(json.dumps(detail, indent=1, default=str))
        return 0
    print(
        f"run {detail['run_id']}  {detail['name'] or ''}  [{detail['status']}]  kind={detail['kind']}"
    )
    error = detail["tags"].get(ERROR_TAG)
    if detail["status"] in ("FAILED", "KILLED") and error is not None:
        ename = detail["tags"].get(ERROR_TYPE_TAG) or "error"
        print(f"error: {ename}: {error}")
    for warning in filter(None, detail["tags"].get(WARNINGS_TAG, "").split(" | ")):
        print(f"warning: {warning}")
    for section in ("params", "metrics"):
        if detail[section]:
            print(f"\n{section}:")
            print(_table(["key", "value"], sorted(detail[section].items())))
    for m in detail["models"]:
        print(f"\nmodel {m['name']}: {m['uri']}")
    for d in detail["datasets"]:
        print(f"dataset {d['name']} {d['digest']} ({d['context'] or '-'})")
    env = detail.get("environment") or {}
    if env:
        print(
            f"\nenvironment {env.get('hash')}: Python {env.get('python')}, {len(env.get('distributions', {}))} distributions"
        )
    return 0


SHOW = Command(
    "show",
    "one run in full: params, metrics, models, datasets, environment",
    (arg("run", help="run id, id prefix or name"), JSON),
    call=_detail,
    show=_show_text,
)


def _sync_now(ws: Workspace, args: argparse.Namespace) -> Any:
    from ..store.reachability import ensure_reachable
    from ..store.sync import sync_workspace

    ensure_reachable(ws)
    return sync_workspace(ws, timeout=args.timeout)


def _sync(args: argparse.Namespace) -> int:
    from ..store import sync

    ws = workspace_from(args)
    if args.retry_failed:
        print(f"mlops: {sync.retry_failed(ws)} refused records put back in line")
    if args.discard_failed:
        print(f"mlops: {sync.discard_failed(ws)} refused records discarded")
    report = _sync_now(ws, args)
    print(report.describe())
    if not report.pending:  # build-cache entries recorded offline get their runs' ids now
        from ..pipeline.cache import CacheIndex

        CacheIndex(ws).resolve_offline_entries()
    failed = sync.failed_records(ws)
    if failed:
        print(f"\n{len(failed)} records refused by MLflow (kept in the journal):")
        rows = [
            [
                r["journal"],
                r["seq"],
                r["kind"],
                r["run_key"][:8],
                (r["error"] or "").split("\n")[0][:120],
            ]
            for r in failed
        ]
        print(_table(["journal", "seq", "kind", "run", "reason"], rows))
        print("`jupyter-mlops sync --retry-failed` sends them again; --discard-failed drops them")
    return 0 if not report.pending and not failed else 7


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
    call=_sync_now,
    terminal=_sync,
)


def _experiments(args: argparse.Namespace) -> int:
    from ..store.client import client_for
    from ..store.reachability import ensure_reachable

    ws = workspace_from(args)
    ensure_reachable(ws)
    exps = client_for(ws).search_experiments()
    print(
        _table(
            ["id", "name", "artifact location"],
            [[e.experiment_id, e.name, e.artifact_location] for e in exps],
        )
    )
    return 0


EXPERIMENTS = Command("experiments", "list experiments", terminal=_experiments, front_ends=(CLI,))

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


def _compare(ws: Workspace, args: argparse.Namespace) -> dict[str, Any]:
    from ..store.run_compare import compare_runs

    return compare_runs(ws, args.runs)


COMPARE = Command(
    "compare",
    "runs side by side; differences highlighted, metrics charted",
    (arg("runs", nargs="+", help="two or more run ids"),),
    call=_compare,
    front_ends=(NOTEBOOK,),
)

COMMANDS = (RUNS, SHOW, SYNC, EXPERIMENTS, TRACK, COMPARE)
