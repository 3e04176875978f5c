"""The canary guard: compare the canary with the champion on the same live traffic, and roll the
canary back when it is worse beyond the thresholds of ``monitor.canary`` in mlops.yaml.

Both versions see the same input distribution (the router splits traffic at random or by a sticky
key), so the comparison is fair: error rate, p95 latency, the canary's outputs against the
champion's (PSI), and, once late labels have come in, their quality on the same stretch of
traffic (``max_quality_drop``; labels are looked for over ``quality_window``, from the canary's
first prediction on, and each version needs ``monitor.quality.min_labels`` of them). Too few canary requests in the window means "wait", never a verdict. The
rollback itself is the release layer's (``demote_canary``): it runs under the release lease, demotes
only the canary version that was judged, and is recorded in the release history with the reason
and ``actor="canary-guard"``.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, Conflict, NotFound
from ..release.aliases.lease import Lease, LeaseLost
from ..release.rollout import demote_canary, state
from ..tags import GUARD_LEADER_TAG
from .drift import ReferenceProfile
from .health import Health, health_by_version, request_arrays
from .labels import load_labels
from .predlog import OUTPUT_COLUMN, scan_predictions
from .quality import by_version, joined_frame, task_of
from .thresholds import CanaryThresholds, load_monitor_config

if TYPE_CHECKING:
    import pyarrow as pa

    from ..store.gateway import Gateway

log = logging.getLogger(__name__)
GUARD_ACTOR = "canary-guard"
LEADER_TAG = GUARD_LEADER_TAG


@dataclass
class CanaryVerdict:
    model: str
    decision: str  # none | wait | keep | rollback | alert
    canary: str | None = None
    champion: str | None = None
    reasons: list[str] = field(default_factory=list)
    canary_health: dict[str, Any] | None = None
    champion_health: dict[str, Any] | None = None
    prediction_psi: float | None = None
    acted: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        if self.decision == "none":
            return f"{self.model}: no canary"
        head = f"canary v{self.canary} vs champion v{self.champion}: {self.decision}"
        if self.acted:
            head += " (rolled back)"
        return head + (": " + "; ".join(self.reasons) if self.reasons else "")


def _aliases(gw: Gateway, model: str) -> dict[str, str]:
    return dict(state(gw, model).aliases)


def _output_psi(table: pa.Table, canary: str, champion: str) -> float | None:
    import pyarrow.compute as pc

    if OUTPUT_COLUMN not in table.column_names:
        return None
    ok = pc.fill_null(pc.equal(table["status"], 200), False)
    champ = table.filter(pc.and_(ok, pc.equal(table["version"], champion)))[OUTPUT_COLUMN]
    cand = table.filter(pc.and_(ok, pc.equal(table["version"], canary)))[OUTPUT_COLUMN]
    if champ.null_count == len(champ) or cand.null_count == len(cand):
        return None
    prof = ReferenceProfile()
    prof.add("prediction", champ)
    return prof.compare_values("prediction", cand).psi


def judge(
    model: str,
    table: pa.Table,
    canary: str | None,
    champion: str | None,
    th: CanaryThresholds,
    quality: dict[str, dict[str, Any]] | None = None,
    min_labels: int = 30,
) -> CanaryVerdict:
    """The verdict from a log window (and the versions' quality from late labels, ``{version:
    {"labeled": n, "metrics": {...}}}``) alone, without side effects: the guard's decision."""
    if canary is None or champion is None:
        return CanaryVerdict(model, "none", canary, champion)
    health = health_by_version(request_arrays(table))
    cand, champ = health.get(canary, Health(canary)), health.get(champion, Health(champion))
    verdict = CanaryVerdict(
        model,
        "keep",
        canary,
        champion,
        canary_health=cand.to_dict(),
        champion_health=champ.to_dict(),
    )
    if cand.requests < th.min_requests or champ.requests < th.min_requests:
        verdict.decision = "wait"
        verdict.reasons.append(
            f"{cand.requests} canary and {champ.requests} champion requests in the window; "
            f"{th.min_requests} of each needed"
        )
        return verdict
    reasons = verdict.reasons
    if cand.error_rate - champ.error_rate > th.max_error_rate_increase:
        reasons.append(
            f"error rate {cand.error_rate:.1%} vs {champ.error_rate:.1%} for the champion "
            f"(allowed +{th.max_error_rate_increase:.1%})"
        )
    if cand.latency_p95_ms is not None and champ.latency_p95_ms is not None:
        slower = cand.latency_p95_ms - champ.latency_p95_ms
        if (
            cand.latency_p95_ms > champ.latency_p95_ms * th.max_latency_p95_ratio
            and slower > th.min_latency_p95_increase_ms
        ):
            reasons.append(
                f"p95 latency {cand.latency_p95_ms:.1f} ms vs {champ.latency_p95_ms:.1f} ms "
                f"(allowed x{th.max_latency_p95_ratio:g})"
            )
    verdict.prediction_psi = _output_psi(table, canary, champion)
    if verdict.prediction_psi is not None and verdict.prediction_psi > th.max_prediction_psi:
        reasons.append(
            f"predictions differ from the champion's: PSI {verdict.prediction_psi:.3f} > "
            f"{th.max_prediction_psi:g}"
        )
    worse = quality_drop(quality or {}, canary, champion, th, min_labels)
    if worse:
        reasons.append(worse)
    if reasons:
        verdict.decision = "rollback" if th.action == "rollback" else "alert"
    return verdict


def quality_drop(
    quality: dict[str, dict[str, Any]],
    canary: str,
    champion: str,
    th: CanaryThresholds,
    min_labels: int,
) -> str:
    """Why the canary's quality is worse than the champion's beyond ``max_quality_drop``, or ''.
    Judged on the first figure both have of accuracy, auc (higher is better) or rmse, mae (an
    error: the drop is relative), when each has ``min_labels`` labeled predictions."""
    mine, theirs = quality.get(canary), quality.get(champion)
    if not mine or not theirs or min(mine["labeled"], theirs["labeled"]) < min_labels:
        return ""
    for name in ("accuracy", "auc", "rmse", "mae"):
        a, b = mine["metrics"].get(name), theirs["metrics"].get(name)
        if a is None or b is None:
            continue
        worse = (b - a) if name in ("accuracy", "auc") else ((a - b) / b if b else 0.0)
        if worse > th.max_quality_drop:
            return (
                f"{name} {a:.3g} vs {b:.3g} for the champion on labeled predictions "
                f"({mine['labeled']} and {theirs['labeled']}; allowed {th.max_quality_drop:g})"
            )
        return ""
    return ""


def roll_back_canary(
    gw: Gateway, model: str, version: str, reason: str, champion: str | None = None
) -> bool:
    """Take ``version`` out of traffic if it is still the canary (and ``champion`` still the
    champion it was judged against); True when it was rolled back.

    The one place that calls the release layer, so the guard follows its API in one line."""

    try:  # checked again under the release lease: never a canary other than the one judged
        demote_canary(
            gw,
            model,
            reason=reason,
            actor=GUARD_ACTOR,
            only_version=version,
            only_against=champion,
        )
    except (NotFound, Conflict):
        return False
    return True


def evaluate_canary(
    gw: Gateway,
    model: str,
    *,
    table: pa.Table | None = None,
    thresholds: CanaryThresholds | None = None,
    now: float | None = None,
) -> CanaryVerdict:
    """Judge the current canary on the last ``monitor.canary.window`` of traffic."""

    th = thresholds or load_monitor_config(gw.ws).canary
    aliases = _aliases(gw, model)
    canary, champion = aliases.get("canary"), aliases.get("champion")
    if canary is None:
        return CanaryVerdict(model, "none", None, champion)
    until = now if now is not None else time.time()
    if table is None:
        table = scan_predictions(gw, model, since=until - th.window, until=until + 1).table
    try:
        quality = canary_quality(gw, model, canary, until, th)
    except Exception as exc:  # labels that cannot be scored leave the other checks standing
        log.warning("canary guard for %s: quality not computed: %s", model, exc)
        quality = None
    min_labels = load_monitor_config(gw.ws).quality.min_labels
    return judge(model, table, canary, champion, th, quality, min_labels)


def canary_quality(
    gw: Gateway, model: str, canary: str, until: float, th: CanaryThresholds
) -> dict[str, dict[str, Any]] | None:
    """Quality per version of the labeled predictions since the canary's first one (within
    ``quality_window``); None when the model has no labels."""
    import pyarrow.compute as pc

    labels, _ = load_labels(gw, model)
    if labels.empty:
        return None
    cfg = load_monitor_config(gw.ws).quality
    table = scan_predictions(gw, model, since=until - th.quality_window, until=until + 1).table
    if table.num_rows == 0:
        return None
    mine = table.filter(pc.equal(table["version"], canary))
    if mine.num_rows:
        table = table.filter(pc.greater_equal(table["ts"], pc.min(mine["ts"])))
    frame = joined_frame(table, labels, cfg)
    return by_version(frame, task_of(frame, cfg), cfg) if not frame.empty else None


def guard_canary(
    gw: Gateway,
    model: str,
    *,
    thresholds: CanaryThresholds | None = None,
    now: float | None = None,
    act: bool = True,
) -> CanaryVerdict:
    """Evaluate, and when the verdict is ``rollback`` (and ``act``), roll the canary back."""
    verdict = evaluate_canary(gw, model, thresholds=thresholds, now=now)
    if act and verdict.decision == "rollback" and verdict.canary is not None:
        reason = "canary guard: " + "; ".join(verdict.reasons)
        verdict.acted = roll_back_canary(gw, model, verdict.canary, reason, verdict.champion)
        if verdict.acted:
            log.warning("%s v%s rolled back: %s", model, verdict.canary, reason)
    return verdict


class CanaryGuard:
    """Checks the canary every ``interval`` seconds in a daemon thread (the router can run one).

    Every replica of a fleet may run one; only the holder of the model's guard lease (tag
    ``mlops.guard_leader``, the registry lease used as leader election) judges and acts, on the
    union of all replicas' logs. A leader that stops gives the lease back; one that dies is
    replaced when its lease expires (three intervals, at least 10 s)."""

    def __init__(
        self,
        gw: Gateway,
        model: str,
        *,
        interval: float | None = None,
        thresholds: CanaryThresholds | None = None,
    ) -> None:
        self.gw, self.model = gw, model
        self.thresholds = thresholds or load_monitor_config(gw.ws).canary
        self.interval = interval if interval is not None else self.thresholds.interval
        self.last: CanaryVerdict | None = None
        self.last_error: str | None = None
        self.leader = False
        self._leader: Lease | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"canary-guard-{model}", daemon=True)

    def start(self) -> CanaryGuard:
        self._thread.start()
        return self

    def check(self) -> CanaryVerdict:
        self.last = guard_canary(self.gw, self.model, thresholds=self.thresholds)
        return self.last

    def lead(self) -> bool:
        """True while this guard is the fleet's one leader (renewed every round)."""
        if self._leader is None:
            self._leader = Lease(
                self.gw,
                self.model,
                tag=LEADER_TAG,
                purpose="canary guard",
                ttl=max(3 * self.interval, 10.0),
                local_lock=False,
                actor=GUARD_ACTOR,
            )
        if self._leader.held:
            try:
                self._leader.renew()
                return True
            except LeaseLost:
                pass
        return self._leader.try_acquire()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.leader = self.lead()
                if self.leader:
                    self.check()
                self.last_error = None
            except Exception as exc:  # the registry may be briefly unreachable: try again
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("canary guard for %s failed: %s", self.model, self.last_error)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(10)
        if self._leader is not None and self._leader.held:
            try:
                self._leader.release()  # a successor takes over at once, not after the ttl
            except Exception as exc:
                log.warning("canary guard for %s kept its lease: %s", self.model, exc)


def start_guard(gw: Gateway, model: str, enabled: bool | None = None) -> CanaryGuard | None:
    """The guard a model server runs beside its router: started when ``enabled`` (``serve
    --guard``), or when ``enabled`` is None and ``monitor.canary.guard`` is true in mlops.yaml."""
    try:
        thresholds = load_monitor_config(gw.ws).canary
    except ConfigError as exc:
        if enabled:
            raise
        log.warning("no canary guard for %s: %s", model, exc)  # serving must not stop for it
        return None
    if not (thresholds.guard if enabled is None else enabled):
        return None
    return CanaryGuard(gw, model, thresholds=thresholds).start()
