"""Monitor alerts out: a drift or quality alert that was not on at the last announced
evaluation becomes a ``drift_alert`` / ``quality_alert`` event (``journal.events``).

What was on is kept beside the latest drift scores (``.mlops/monitor/<model>/alerts.json``), so
a monitor that runs every minute announces an alert once when it starts (and again when another
feature or figure joins it), not once a minute. Each machine keeps its own, so two machines
monitoring the same model both announce.
"""

from __future__ import annotations

import json
import os
from typing import Any

from ..journal.events import DRIFT_ALERT, QUALITY_ALERT, emit
from ..workspace import Workspace
from .predlog_format import model_folder_name

ALERTS_FILE = "alerts.json"


def _drift_keys(report: Any) -> list[str]:
    keys = sorted(report.drifted)
    if report.prediction_drift is not None and report.prediction_drift.drifted:
        keys.append("(predictions)")
    return keys


def announce_alerts(ws: Workspace, report: Any) -> list[str]:
    """Send the alerts of ``report`` (a ``MonitorReport``) that are new; the kinds sent."""
    drift = _drift_keys(report)
    quality = sorted(report.quality.alert_keys) if report.quality is not None else []
    folder = ws.subdir("monitor") / model_folder_name(report.model)
    path = folder / ALERTS_FILE
    try:
        before = json.loads(path.read_text())
    except (OSError, ValueError):
        before = {}
    sent = []
    window = report.until - report.since
    if set(drift) - set(before.get("drift", [])):
        alerts = [a for a in report.alerts if a.startswith(("input drift", "prediction drift"))]
        payload = {"alerts": alerts, "drifted": drift, "window_s": window, "run_id": report.run_id}
        if report.prediction_drift is not None:
            payload["prediction_psi"] = report.prediction_drift.psi
        emit(ws, DRIFT_ALERT, model=report.model, payload=payload)
        sent.append(DRIFT_ALERT)
    if set(quality) - set(before.get("quality", [])) and report.quality is not None:
        payload = {
            "alerts": [a for a in report.alerts if a.startswith("quality: ")],
            "failing": quality,
            "window_s": window,
            "figures": {v: q["metrics"] for v, q in report.quality.by_version.items()},
            "run_id": report.run_id,
        }
        emit(ws, QUALITY_ALERT, model=report.model, payload=payload)
        sent.append(QUALITY_ALERT)
    tmp = folder / f".{ALERTS_FILE}-{os.getpid()}"
    tmp.write_text(json.dumps({"drift": drift, "quality": quality, "until": report.until}))
    os.replace(tmp, path)
    return sent
