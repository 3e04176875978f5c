"""Alert triggers: the monitor's figures past a threshold, held for ``sustained`` seconds.

- ``input_drift``: the model's live inputs against its training data (the monitor report over
  ``window``); without a threshold, any feature the ``monitor.drift`` thresholds call drifted;
  with one, a feature whose PSI is above it.
- ``prediction_drift``: the PSI of the served predictions against the model's predictions on
  its training data; above the threshold (else: drifted by the monitor's thresholds).
- ``quality``: a metric of the labelled traffic (``monitor.quality.current_quality``) below the
  threshold, or above it for an error metric (mae, rmse, ...).

An alert fires once each time its condition starts holding (for ``sustained``): it re-arms when
the condition clears, so a drift that stays does not start a cycle every round.
"""

from __future__ import annotations

from typing import Any

from ..errors import MlopsError
from ..monitor.quality import current_quality as labelled_quality
from .firing import Firing, TriggerCheck
from .spec import Trigger

ERROR_METRICS = ("mae", "rmse", "mse", "log_loss", "error_rate")


def _input_drift(check: TriggerCheck, trigger: Trigger) -> tuple[bool, float | None, str]:
    report = check.report(trigger.window)
    scores = {name: d.psi for name, d in report.drift.items() if d.psi is not None}
    if trigger.threshold is None:
        drifted = report.drifted
        top = max((scores.get(n) or 0.0 for n in drifted), default=None)
        words = "; ".join(f"{n}: {', '.join(report.drift[n].reasons)}" for n in drifted[:3])
        return bool(drifted), top, f"input drift in {words}" if drifted else ""
    over = sorted(
        ((n, v) for n, v in scores.items() if v > trigger.threshold), key=lambda kv: -kv[1]
    )
    top = max(scores.values(), default=None)
    words = ", ".join(f"{n} PSI {v:.2f}" for n, v in over[:3])
    return bool(over), top, f"input drift: {words} > {trigger.threshold:g}" if over else ""


def _prediction_drift(check: TriggerCheck, trigger: Trigger) -> tuple[bool, float | None, str]:
    drift = check.report(trigger.window).prediction_drift
    if drift is None or drift.psi is None:
        return False, None, ""
    if trigger.threshold is None:
        held = drift.drifted
        return held, drift.psi, "prediction drift: " + "; ".join(drift.reasons) if held else ""
    held = drift.psi > trigger.threshold
    words = f"prediction drift: PSI {drift.psi:.2f} > {trigger.threshold:g}"
    return held, drift.psi, words if held else ""


def current_quality(check: TriggerCheck, window: float) -> dict[str, float]:
    """The labelled traffic's metrics over ``window`` (empty when no labels arrived)."""
    return labelled_quality(check.gw, check.model, window)


def _quality(check: TriggerCheck, trigger: Trigger) -> tuple[bool, float | None, str]:
    assert trigger.metric is not None and trigger.threshold is not None
    value = current_quality(check, trigger.window).get(trigger.metric)
    if value is None:
        return False, None, ""
    worse_up = trigger.metric.lower() in ERROR_METRICS
    held = value > trigger.threshold if worse_up else value < trigger.threshold
    side = ">" if worse_up else "<"
    return held, value, f"{trigger.metric} {value:.3f} {side} {trigger.threshold:g}"


SIGNALS = {
    "input_drift": _input_drift,
    "prediction_drift": _prediction_drift,
    "quality": _quality,
}


def check_alert(check: TriggerCheck, trigger: Trigger, memory: dict[str, Any]) -> Firing | None:
    try:
        held, value, words = SIGNALS[trigger.signal or ""](check, trigger)
    except MlopsError as exc:
        memory["error"] = exc.message
        return None
    memory.pop("error", None)
    memory["value"] = None if value is None else float(f"{value:.3g}")  # fewer registry writes
    if not held:
        memory.pop("since", None)
        memory.pop("armed", None)  # cleared: the next episode may fire again
        return None
    since = float(memory.setdefault("since", check.now))
    if memory.get("armed") is False or check.now - since < trigger.sustained:
        return None
    memory["armed"] = False
    memory["fired"] = check.now
    held_for = f" (held {check.now - since:.0f} s)" if trigger.sustained else ""
    return Firing(
        trigger.name,
        "alert",
        words + held_for,
        check.now,
        {"signal": trigger.signal, "value": value, "threshold": trigger.threshold},
    )
