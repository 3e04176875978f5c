"""``jupyter-mlops runs|show|sync|experiments``."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..store.runs import key_metrics


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


def _runs(args: argparse.Namespace) -> int:
    from ..cli import workspace_from
    from ..store.runs import summaries

    runs = summaries(
        workspace_from(args), experiment=args.experiment, limit=args.limit, sort=args.sort
    )
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


def _show(args: argparse.Namespace) -> int:
    from ..cli import workspace_from
    from ..store.run_details import run_detail

    detail = run_detail(workspace_from(args), args.run)
    if args.json:
        print(json.dumps(detail, indent=1, default=str))
        return 0
    print(
        f"run {detail['run_id']}  {detail['name'] or ''}  [{detail['status']}]  kind={detail['kind']}"
    )
    error = detail["tags"].get("mlops.error")
    if detail["status"] in ("FAILED", "KILLED") and error is not None:
        ename = detail["tags"].get("mlops.error_type") or "error"
        print(f"error: {ename}: {error}")
    for warning in filter(None, detail["tags"].get("mlops.warnings", "").split(" | ")):
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


def _sync(args: argparse.Namespace) -> int:
    from ..cli import workspace_from
    from ..store import sync
    from ..store.reachability import ensure_reachable

    ws = workspace_from(args)
    if args.retry_failed:
        print(f"mlops: {sync.retry_failed(ws)} refused records put back in line")
    if args.discard_failed:
        print(f"mlops: {sync.discard_failed(ws)} refused records discarded")
    ensure_reachable(ws)
    report = sync.sync_workspace(ws, timeout=args.timeout)
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


def _experiments(args: argparse.Namespace) -> int:
    from ..cli import workspace_from
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


def register(sub: Any) -> None:
    p = sub.add_parser("runs", help="list recent runs")
    p.add_argument("--experiment", "-e")
    p.add_argument("--limit", "-l", type=int, default=20)
    p.add_argument("--sort", "-s", metavar="METRIC", help="sort by this metric, highest first")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_runs)
    p = sub.add_parser("show", help="one run in full")
    p.add_argument("run", help="run id, id prefix or name")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_show)
    p = sub.add_parser("sync", help="send queued records to MLflow (also those of dead kernels)")
    p.add_argument("--timeout", type=float, default=60.0)
    p.add_argument(
        "--retry-failed", action="store_true", help="send the records MLflow refused again"
    )
    p.add_argument("--discard-failed", action="store_true", help="drop the records MLflow refused")
    p.set_defaults(func=_sync)
    p = sub.add_parser("experiments", help="list experiments")
    p.set_defaults(func=_experiments)
