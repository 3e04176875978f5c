"""What ``runs``, ``show``, ``sync``, ``experiments`` and ``compare`` do and print in a terminal
(declared in ``tracking.py``)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..errors import StoreUnavailable
from ..journal import sync as outbox
from ..pipeline.cache import CacheIndex
from ..store.gateway import Gateway
from ..store.reachability import ensure_reachable
from ..store.run_compare import compare_runs
from ..store.run_details import run_detail
from ..store.runs import key_metrics
from ..store.runs import summaries as run_summaries
from ..tags import ERROR_TAG, ERROR_TYPE_TAG, WARNINGS_TAG
from .terminal import gateway_from


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


def summaries(gw: Gateway, args: argparse.Namespace) -> list[dict[str, Any]]:
    return run_summaries(gw, experiment=args.experiment, limit=args.limit, sort=args.sort)


def runs_text(runs: list[dict[str, Any]], args: argparse.Namespace) -> int:
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


def detail(gw: Gateway, args: argparse.Namespace) -> dict[str, Any]:
    return run_detail(gw, args.run)


def show_text(detail: dict[str, Any], args: argparse.Namespace) -> int:
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


def sync_now(gw: Gateway, args: argparse.Namespace) -> Any:
    ws = gw.ws
    ensure_reachable(ws)
    return outbox.sync_workspace(ws, timeout=args.timeout)


def sync(args: argparse.Namespace) -> int:
    gw = gateway_from(args)
    ws = gw.ws
    if args.retry_failed:
        print(f"mlops: {outbox.retry_failed(ws)} refused records put back in line")
    if args.discard_failed:
        print(f"mlops: {outbox.discard_failed(ws)} refused records discarded")
    report = sync_now(gw, args)
    print(report.describe())
    if not report.pending:  # build-cache entries recorded offline get their runs' ids now
        CacheIndex(ws).resolve_offline_entries()
    failed = outbox.failed_records(ws)
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
    # records still queued or refused: the code of a store that did not take them all
    return 0 if not report.pending and not failed else StoreUnavailable.exit_code


def experiments(args: argparse.Namespace) -> int:
    gw = gateway_from(args)
    ensure_reachable(gw.ws)
    exps = gw.client.search_experiments()
    print(
        _table(
            ["id", "name", "artifact location"],
            [[e.experiment_id, e.name, e.artifact_location] for e in exps],
        )
    )
    return 0


def compare(gw: Gateway, args: argparse.Namespace) -> dict[str, Any]:
    return compare_runs(gw, args.runs)
