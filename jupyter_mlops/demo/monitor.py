"""The monitoring part of ``make demo``: drift detected in live traffic, a bad canary rolled back.

    python -m jupyter_mlops.demo.monitor [PROJECT_DIR] [--shift COLUMN ...]

Runs after the release stage on the built example project (it bootstraps a champion itself when
there is none). It serves the model, sends the evaluation rows as live traffic, then the same rows
with some features shifted, and evaluates both windows against the champion's training data,
found through lineage: the first shows no drift, the second shows it (report recorded as a
monitoring run, plot written to ``output/``). Then it trains a deliberately bad model, puts it in
as a canary (forced past its gates, with the reason recorded) and keeps traffic flowing until the
canary guard running beside the server rolls it back; ``jupyter-mlops history`` shows why.

Every wait is for a condition, with a timeout; nothing depends on a sleep being long enough.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..capture.tracker import track
from ..cli import main as cli
from ..errors import MlopsError, NotFound
from ..monitor.plots import feature_figure
from ..monitor.report import build_report, format_report
from ..monitor.thresholds import load_monitor_config
from ..release.gates.evaluation import load_evaluation
from ..release.history import events
from ..release.policy import load_policy
from ..release.registration import register
from ..release.rollout import demote_canary, promote, state
from ..serving.server import BackgroundServer
from ..store.gateway import Gateway, gateway_for
from ..tags import DEMO_TAG
from ..workspace import Workspace
from .release import candidate_runs
from .traffic import Seen, send_rows, send_traffic, versions_text

DEFAULT_SHIFT_SD = 2.0
BAD_CANARY_WEIGHT = 50.0
ROLLBACK_TIMEOUT = 30.0


@dataclass
class MonitorDemoResult:
    model: str
    champion: str
    baseline: Any  # MonitorReport of the undrifted window
    drifted: Any  # MonitorReport of the drifted window
    shifted: list[str] = field(default_factory=list)
    plot: Path | None = None
    canary: str | None = None
    rollback_reason: str | None = None
    rollback_seconds: float | None = None
    canary_traffic: Seen = field(default_factory=Counter)
    after_rollback: Seen = field(default_factory=Counter)


def shifted_rows(frame: Any, columns: list[str], sd: float) -> Any:
    """The same rows with ``columns`` moved up by ``sd`` of their own standard deviations."""
    out = frame.copy()
    for c in columns:
        out[c] = out[c] + sd * float(frame[c].std())
    return out


def ensure_champion(gw: Gateway, name: str, metric: str, say: Callable[[str], None]) -> str:
    """The current champion; without one (no release stage ran), the best run becomes it."""
    st = state(gw, name) if _is_registered(gw, name) else None
    if st is not None and st.aliases.get("canary"):
        demote_canary(gw, name, reason="monitor demo: start without a canary")
    if st is not None and st.aliases.get("champion"):
        return str(st.aliases["champion"])
    best = candidate_runs(gw, metric)[0]
    mv = register(gw, best.info.run_id, name, reason="monitor demo: first release")
    promote(gw, name, mv.version, "champion", force=True, reason="monitor demo: bootstrap champion")
    say(f"no champion yet: registered run {best.info.run_id[:8]} as v{mv.version}, the champion")
    return str(mv.version)


def _is_registered(gw: Gateway, name: str) -> bool:
    try:
        gw.registered_model(name)
    except NotFound:
        return False
    return True


def train_bad_model(ws: Workspace, X: Any, y: Any) -> str:
    """A tracked run with a model that always answers the rarer class: the canary to reject."""
    from sklearn.dummy import DummyClassifier

    rare = y.value_counts().idxmin()
    model = DummyClassifier(strategy="constant", constant=rare).fit(X, y)
    with track(name="bad-canary", workspace=ws, tags={DEMO_TAG: "bad canary"}) as run:
        run.log_params({"strategy": "constant", "constant": str(rare)})
        run.log_metrics({"accuracy": float((model.predict(X) == y).mean())})
        run.log_model(model, name="model", X=X.head(20))
    return run.wait_synced()  # models upload in the background: wait until it landed


def write_drift_plot(report: Any, out_dir: Path) -> Path | None:
    """PNG of training vs live for the most drifted feature (None when nothing was compared)."""
    ranked = sorted((d for d in report.drift.values() if d.ref_dist), key=lambda d: -(d.psi or 0.0))
    if not ranked:
        return None
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "monitor_drift.png"
    fig = feature_figure(ranked[0], title=f"{report.model}: ")
    fig.savefig(path, dpi=100)
    return path


def _history_text(ws: Workspace, name: str) -> str:
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        cli(["--workspace", str(ws.root), "history", name])
    return buf.getvalue().rstrip()


def run(
    gw: Gateway,
    *,
    metric: str = "cv_accuracy",
    shift: list[str] | None = None,
    shift_sd: float = DEFAULT_SHIFT_SD,
    say: Callable[[str], None] = print,
    out_dir: Path | None = None,
    timeout: float = ROLLBACK_TIMEOUT,
) -> MonitorDemoResult:
    import pandas as pd

    ws = gw.ws
    policy = load_policy(ws)
    name = policy.model_name or ws.name
    if not policy.evaluation:
        raise NotFound(
            "the release section names no evaluation data to send as traffic",
            hint="add `evaluation: {path: ..., target: ...}` under release: in mlops.yaml",
        )
    champion = ensure_champion(gw, name, metric, say)
    evaluation = load_evaluation(gw, policy.evaluation, None)
    X = evaluation.X
    numeric = [c for c in X.columns if pd.api.types.is_numeric_dtype(X[c])]
    shift = shift or numeric[:2]
    unknown = [c for c in shift if c not in numeric]
    if unknown:
        raise NotFound(f"no numeric column {unknown[0]!r} in the evaluation data to shift")
    result = MonitorDemoResult(name, champion, None, None, shifted=list(shift))

    with BackgroundServer(gw, name, poll_interval=0.2, guard=True) as srv:
        say(f"serving {name} (champion v{champion}) on {srv.url}, canary guard on")
        _drift_windows(gw, srv, X, shift_sd, result, say, out_dir or ws.root / "output")
        say("\n-- a bad canary: a model that always answers the same class")
        _bad_canary(gw, srv, evaluation, result, say, timeout)
    trail = [e for e in events(gw, name) if e.action == "rollback" and e.version == result.canary]
    result.rollback_reason = trail[-1].reason if trail else None
    say(
        f"canary traffic {versions_text(result.canary_traffic)}; rolled back by "
        f"{trail[-1].actor if trail else '?'} {result.rollback_seconds:.1f} s after it went in; "
        f"afterwards {versions_text(result.after_rollback)}"
    )
    say(f"\n$ jupyter-mlops history {name}\n" + _history_text(ws, name))
    return result


def _drift_windows(
    gw: Gateway,
    srv: BackgroundServer,
    X: Any,
    shift_sd: float,
    result: MonitorDemoResult,
    say: Callable[[str], None],
    out_dir: Path,
) -> None:
    """Two windows of live traffic, as they are and shifted, each reported against training."""
    shift, name = result.shifted, result.model
    t0 = time.time()
    normal = send_rows(srv.url, X.to_dict(orient="records"))
    t1 = time.time()
    drifted = send_rows(srv.url, shifted_rows(X, shift, shift_sd).to_dict(orient="records"))
    t2 = time.time()
    srv.app.state.prediction_log.flush()  # the writer thread would within a second
    say(
        f"sent {sum(normal.values())} requests of evaluation rows, then "
        f"{sum(drifted.values())} with {', '.join(shift)} shifted by +{shift_sd:g} sd"
    )
    result.baseline = build_report(gw, name, since=t0, until=t1)
    result.drifted = build_report(gw, name, since=t1, until=t2 + 1e-3)
    base = result.baseline
    say(
        f"\n-- window 1 (evaluation rows as they are): {len(base.drifted)} of "
        f"{len(base.drift)} features drifted against {base.reference or 'no reference'}"
    )
    say("\n-- window 2 (the drifted segment):\n" + format_report(result.drifted))
    result.plot = write_drift_plot(result.drifted, out_dir)
    if result.plot is not None:
        say(f"training vs live for the most drifted feature: {result.plot}")


def _bad_canary(
    gw: Gateway,
    srv: BackgroundServer,
    evaluation: Any,
    result: MonitorDemoResult,
    say: Callable[[str], None],
    timeout: float,
) -> None:
    """A deliberately bad canary, forced in; traffic flows until the guard rolls it back."""
    name, X = result.model, evaluation.X
    cfg = load_monitor_config(gw.ws)
    run_id = train_bad_model(gw.ws, X, evaluation.y)
    mv = register(gw, run_id, name, reason="monitor demo: a deliberately bad model")
    canary = result.canary = str(mv.version)
    promote(
        gw,
        name,
        canary,
        "canary",
        weight=BAD_CANARY_WEIGHT,
        force=True,
        reason="monitor demo: untested canary, to show the canary guard",
    )
    if not srv.router.wait_for(lambda t: t.canary is not None and t.canary.version == canary, 10):
        raise MlopsError(f"the server never loaded canary v{canary}")
    say(
        f"v{canary} is the canary at {BAD_CANARY_WEIGHT:g}% of traffic (gates overridden); "
        f"the guard checks every {cfg.canary.interval:g} s once each version has "
        f"{cfg.canary.min_requests} requests"
    )
    t_canary = time.monotonic()
    limit = timeout + cfg.canary.interval
    rolled_back, result.canary_traffic = send_traffic(
        srv.url,
        X.to_dict(orient="records"),
        until=lambda: srv.router.table.canary is None,
        seconds=limit,
        pause=0.002,
    )
    if not rolled_back:
        guard = srv.app.state.canary_guard
        last = guard.last.summary() if guard is not None and guard.last else "no verdict"
        raise MlopsError(
            f"the canary guard did not roll v{canary} back within {limit:g} s "
            f"(last verdict: {last})",
            hint="see monitor.canary in mlops.yaml (min_requests, interval)",
        )
    result.rollback_seconds = time.monotonic() - t_canary
    result.after_rollback = send_rows(srv.url, X.head(20).to_dict(orient="records"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m jupyter_mlops.demo.monitor", description=__doc__)
    ap.add_argument("project", nargs="?", help="project folder (default: found from here)")
    ap.add_argument("--metric", default="cv_accuracy", help="picks a champion when there is none")
    ap.add_argument("--shift", nargs="+", metavar="COLUMN", help="features to drift")
    ap.add_argument("--shift-sd", type=float, default=DEFAULT_SHIFT_SD)
    args = ap.parse_args(argv)
    try:
        run(
            gateway_for(Workspace.find(args.project)),
            metric=args.metric,
            shift=args.shift,
            shift_sd=args.shift_sd,
        )
    except MlopsError as exc:
        print(f"monitor demo: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
