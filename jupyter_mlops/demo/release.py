"""The release part of ``make demo``: run -> gates -> card -> canary with traffic -> champion -> rollback.

    python -m jupyter_mlops.demo.release [PROJECT_DIR] [--metric cv_accuracy]

Needs a built example project (its training runs carry logged models). The runner-up run becomes
the first champion, so that the best one can then go through a real canary against it.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import Any

from ..errors import MlopsError, NotFound
from ..release.approvals import decide
from ..release.card import write_card
from ..release.history import events, format_history
from ..release.policy import load_policy
from ..release.registration import register
from ..release.rollout import promote, rollback
from ..release.validation import validate
from ..serving.server import BackgroundServer
from ..store.gateway import Gateway, gateway_for
from ..store.runs import search
from ..workspace import Workspace
from .traffic import send_traffic, versions_text


def candidate_runs(gw: Gateway, metric: str) -> list[Any]:
    """Finished runs that logged a model and the metric, best first."""
    runs, _ = search(
        gw,
        filter_string=f"metrics.`{metric}` > -1e300",
        order_by=[f"metrics.`{metric}` DESC"],
        limit=200,
    )
    runs = [
        r for r in runs if r.outputs and r.outputs.model_outputs and r.info.status == "FINISHED"
    ]
    if len(runs) < 2:
        raise NotFound(
            f"need two finished runs with a model and metric {metric!r}, found {len(runs)}",
            hint="build the example first: `jupyter-mlops build`",
        )
    return runs


def run(
    gw: Gateway,
    *,
    metric: str = "cv_accuracy",
    say: Callable[[str], None] = print,
    seconds: float = 3.0,
) -> None:
    import pandas as pd

    ws = gw.ws
    policy = load_policy(ws)
    name = policy.model_name or ws.name
    best, runner_up = candidate_runs(gw, metric)[:2]
    say(
        f"== release demo for {name!r}: best run {best.info.run_id[:8]} ({metric}={best.data.metrics[metric]:.4f}), runner-up {runner_up.info.run_id[:8]} ({runner_up.data.metrics[metric]:.4f})"
    )
    first = register(gw, runner_up.info.run_id, name, reason="demo: first release")
    report = validate(gw, name, first.version, reason="demo")
    say(report.text())
    approve(gw, policy, name, first.version, say)
    promote(
        gw,
        name,
        first.version,
        "champion",
        force=not report.passed,
        reason=None if report.passed else "demo: bootstrap champion",
    )
    mv = register(gw, best.info.run_id, name, reason="demo: better model")
    report = validate(gw, name, mv.version, reason="demo")
    say(report.text())
    card = write_card(gw, name, mv.version)
    say(f"model card: {card.md_path}")
    if not report.passed:
        say(
            f"v{mv.version} failed its gates, so it stays a candidate; the demo stops here (as a release would)."
        )
        return
    promote(gw, name, mv.version, "staging", reason="demo")
    eval_rows = (
        pd.read_csv(ws.root / policy.evaluation["path"])
        .drop(columns=[policy.evaluation["target"]])
        .to_dict(orient="records")
    )

    def traffic(seconds: float) -> str:
        return versions_text(send_traffic(srv.url, eval_rows, seconds=seconds)[1])

    with BackgroundServer(gw, name) as srv:
        say(f"serving {name} on {srv.url}")
        promote(gw, name, mv.version, "canary", weight=policy.canary_weight, reason="demo: canary")
        srv.router.wait_for(lambda t: t.canary is not None, 5)
        say(f"canary v{mv.version} at {policy.canary_weight:g}%: {traffic(seconds)}")
        approve(gw, policy, name, mv.version, say)
        promote(gw, name, mv.version, "champion", reason="demo: canary healthy")
        srv.router.wait_for(lambda t: t.champion.version == str(mv.version), 5)
        say(f"champion v{mv.version}: {traffic(seconds / 2)}")
        t0 = time.monotonic()
        rollback(gw, name, reason="demo: rollback drill")
        srv.router.wait_for(lambda t: t.champion.version == str(first.version), 5)
        say(
            f"rolled back to v{first.version}, serving it after {time.monotonic() - t0:.2f} s: {traffic(seconds / 2)}"
        )
    say("== release history")
    say(format_history(events(gw, name)))


def approve(gw: Gateway, policy: Any, name: str, version: Any, say: Callable[[str], None]) -> None:
    """When the policy protects champion, one of its approvers approves first (as a reviewer
    would, from the sidebar or `jupyter-mlops approve`)."""
    rule = policy.approval_rule("champion")
    if rule is None:
        return
    who = rule.approvers[0] if rule.approvers else "reviewer"
    approval = decide(
        gw, name, version, "approve", actor=who, comment="demo: gates and canary fine"
    )
    say(approval.summary())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m jupyter_mlops.demo.release")
    ap.add_argument("project", nargs="?", help="project folder (default: found from here)")
    ap.add_argument("--metric", default="cv_accuracy")
    ap.add_argument("--seconds", type=float, default=3.0)
    args = ap.parse_args(argv)
    try:
        run(gateway_for(Workspace.find(args.project)), metric=args.metric, seconds=args.seconds)
    except MlopsError as exc:
        print(f"release demo: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
