"""One monitoring evaluation: health, input and prediction drift, and the canary verdict, for a
time window of a model's prediction log; recorded as a monitoring run so drift has a history.

Nothing here raises for bad data: an empty window, features missing from live traffic, a model
with no training dataset recorded, unreadable log files: each becomes a line in ``problems``.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np  # noqa: TID253 -- needed at import here

from ..errors import NotFound
from ..limits import LINE_TEXT, LIST_TEXT, MAX_KEY
from ..tags import (
    KIND_TAG,
    MODEL_TAG,
    MODEL_VERSION_TAG,
    MONITOR_ALERTS_TAG,
    MONITOR_CANARY_TAG,
    MONITOR_DRIFTED_TAG,
    MONITOR_UNTIL_TAG,
)
from ..workspace import Workspace
from .alerts import announce_alerts
from .drift import FeatureDrift, ReferenceProfile, prediction_drift
from .guard import CanaryVerdict, judge
from .health import Health, health_by_version, health_over_time, request_arrays
from .predlog import INPUT_PREFIX, model_folder_name, scan_predictions
from .quality import QualityReport, quality_report, validation_figures
from .reference import training_reference
from .thresholds import MonitorConfig, load_monitor_config, parse_duration

if TYPE_CHECKING:
    import pyarrow as pa

    from ..store.gateway import Gateway

MONITOR_KIND = "monitor"


@dataclass
class MonitorReport:
    model: str
    since: float
    until: float
    aliases: dict[str, str] = field(default_factory=dict)
    reference_version: str | None = None
    reference: str = ""
    health: dict[str, Health] = field(default_factory=dict)
    health_over_time: list[dict[str, Any]] = field(default_factory=list)
    drift: dict[str, FeatureDrift] = field(default_factory=dict)
    prediction_drift: FeatureDrift | None = None
    drift_over_time: list[dict[str, Any]] = field(default_factory=list)
    canary: CanaryVerdict | None = None
    quality: QualityReport | None = None  # None: no labels known for the model
    problems: list[str] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)
    live_rows: int = 0
    run_id: str | None = None

    @property
    def drifted(self) -> list[str]:
        return [name for name, d in self.drift.items() if d.drifted]

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "since": self.since,
            "until": self.until,
            "aliases": self.aliases,
            "reference_version": self.reference_version,
            "reference": self.reference,
            "live_rows": self.live_rows,
            "health": {k: v.to_dict() for k, v in self.health.items()},
            "drift": {k: v.to_dict() for k, v in self.drift.items()},
            "drifted": self.drifted,
            "prediction_drift": self.prediction_drift.to_dict() if self.prediction_drift else None,
            "drift_over_time": self.drift_over_time,
            "health_over_time": self.health_over_time,
            "canary": self.canary.to_dict() if self.canary else None,
            "quality": self.quality.to_dict() if self.quality else None,
            "problems": self.problems,
            "alerts": self.alerts,
            "run_id": self.run_id,
        }

    def to_text(self) -> str:
        return format_report(self)


# --------------------------------------------------------------------------- building


def _registry_aliases(gw: Gateway, model: str, problems: list[str]) -> dict[str, str]:
    try:
        rm = gw.registered_model(model)
    except NotFound:
        problems.append(f"{model} is not a registered model; only the prediction log is used")
        return {}
    return {k: str(v) for k, v in rm.aliases.items()}


def _served(table: pa.Table) -> pa.Table:
    """Rows of successful, non-shadow predictions: the inputs the model really received."""
    import pyarrow.compute as pc

    if table.num_rows == 0:
        return table
    ok = pc.and_(
        pc.fill_null(pc.equal(table["status"], 200), False),
        pc.fill_null(pc.greater(table["n_rows"], 0), False),
    )
    ok = pc.and_(ok, pc.invert(pc.fill_null(pc.equal(table["alias"], "shadow"), False)))
    return table.filter(ok)


def build_report(
    gw: Gateway,
    model: str,
    *,
    window: float | str | None = None,
    since: float | None = None,
    until: float | None = None,
    reference: Any = None,
    reference_predictions: Any = None,
    version: str | None = None,
    config: MonitorConfig | None = None,
    record: bool = True,
    announce: bool | None = None,
    workers: int = 2,
) -> MonitorReport:
    """Evaluate ``model``'s traffic over ``window`` (default ``monitor.window``) ending ``until``.

    ``reference`` (a DataFrame) overrides the training dataset found through lineage. Drift and
    quality alerts that were not on at the last announced evaluation are sent as events when
    ``announce`` (default: ``record``; a sidebar's look at the report announces nothing)."""
    import pyarrow.compute as pc

    ws = gw.ws
    cfg = config or load_monitor_config(ws)
    until = float(until) if until is not None else time.time()
    span = parse_duration(window, "window") if window is not None else cfg.window
    since = float(since) if since is not None else until - span
    report = MonitorReport(model, since, until)
    report.aliases = _registry_aliases(gw, model, report.problems)

    scan = scan_predictions(gw, model, since=since, until=until)
    report.problems.extend(scan.problems)
    table = scan.table
    if table.num_rows == 0:
        report.problems.append(
            f"no predictions logged for {model} between {_fmt_ts(since)} and {_fmt_ts(until)}"
        )
    req = request_arrays(table)
    report.health = health_by_version(req, since, until)
    report.health_over_time = health_over_time(req, cfg.buckets, since, until)
    _health_alerts(report, cfg)

    served = _served(table)
    report.live_rows = served.num_rows
    report.reference_version = version or report.aliases.get("champion") or _latest_version(req)
    frame, features, ref_preds = _reference(gw, report, reference, reference_predictions)
    if frame is not None:
        _input_drift(report, cfg, table, served, frame, features, workers)
    if ref_preds is not None and served.num_rows and report.reference_version is not None:
        mine = served.filter(pc.equal(served["version"], str(report.reference_version)))
        report.prediction_drift = prediction_drift(
            ref_preds, mine if mine.num_rows else served, cfg.drift
        )
    for name in report.drifted:
        report.alerts.append(f"input drift in {name}: {'; '.join(report.drift[name].reasons)}")
    if report.prediction_drift is not None and report.prediction_drift.drifted:
        report.alerts.append("prediction drift: " + "; ".join(report.prediction_drift.reasons))
    _quality(gw, report, cfg, table)
    if "canary" in report.aliases:
        _canary_verdict(report, cfg, table)

    write_latest(ws, report)
    if record:
        try:
            report.run_id = record_report(gw, report)
        except Exception as exc:  # a store problem must not hide the report itself
            report.problems.append(f"monitoring run not recorded: {exc}")
    if record if announce is None else announce:
        announce_alerts(ws, report)
    return report


def _reference(
    gw: Gateway, report: MonitorReport, frame: Any, predictions: Any
) -> tuple[Any, list[str] | None, Any]:
    """The data to compare live traffic with: the caller's, else the training data of the
    reference version found through lineage (with that model's predictions on it)."""
    if frame is not None:
        report.reference = "reference data given by the caller"
        return frame, None, predictions
    ref = training_reference(
        gw, report.model, report.reference_version, with_predictions=predictions is None
    )
    report.problems.extend(ref.notes)
    report.reference = ref.description
    return ref.frame, ref.features, predictions if predictions is not None else ref.predictions


def _input_drift(
    report: MonitorReport,
    cfg: MonitorConfig,
    table: Any,
    served: Any,
    frame: Any,
    features: list[str] | None,
    workers: int,
) -> None:
    live_features = {
        c[len(INPUT_PREFIX) :] for c in table.column_names if c.startswith(INPUT_PREFIX)
    }
    if features is None:  # no signature: compare the columns the two sides share
        features = [c for c in frame.columns if c in live_features] or list(frame.columns)
    profile = ReferenceProfile.from_frame(frame, [f for f in features if f in frame.columns])
    for f in features:
        if f not in frame.columns:
            report.problems.append(f"feature {f!r} is not in the training data")
    if not served.num_rows:
        if table.num_rows:
            report.problems.append("no successful predictions in the window: drift not computed")
        return
    report.drift = profile.compare(served, cfg.drift, workers=workers)
    missing = [n for n, d in report.drift.items() if d.note == "missing from live traffic"]
    if missing:
        report.problems.append(
            f"{len(missing)} feature(s) missing from live traffic: {', '.join(missing)}"
        )
    report.drift_over_time = _drift_over_time(profile, served, cfg, report.since, report.until)


def _canary_verdict(report: MonitorReport, cfg: MonitorConfig, table: Any) -> None:
    """The canary judged on the canary window's traffic, as the guard would judge it."""
    import pyarrow.compute as pc

    canary_since = max(report.since, report.until - cfg.canary.window)
    if table.num_rows:
        table = table.filter(pc.greater_equal(table["ts"], canary_since))
    aliases = report.aliases
    quality = report.quality.by_version if report.quality is not None else None
    report.canary = judge(
        report.model,
        table,
        aliases.get("canary"),
        aliases.get("champion"),
        cfg.canary,
        quality,
        cfg.quality.min_labels,
    )
    if report.canary.decision in ("rollback", "alert"):
        report.alerts.append("canary: " + "; ".join(report.canary.reasons))


def _quality(gw: Gateway, report: MonitorReport, cfg: MonitorConfig, table: Any) -> None:
    """Quality from late labels, when the model has any (versions judged against the figures
    recorded at their validation)."""
    try:
        found = quality_report(
            gw,
            report.model,
            table,
            report.since,
            report.until,
            th=cfg.quality,
            buckets=cfg.buckets,
            validation=validation_figures(gw, report.model, table),
        )
    except Exception as exc:  # labels that cannot be scored must not hide the rest
        report.problems.append(f"quality not computed: {type(exc).__name__}: {exc}")
        return
    report.problems.extend(found.problems)
    if not found.labels:
        return
    report.quality = found
    report.alerts.extend(f"quality: {a}" for a in found.alerts)


def _latest_version(req: Any) -> str | None:
    versions = [v for v in set(req.version.tolist()) if v.isdigit()]
    return max(versions, key=int) if versions else None


def _health_alerts(report: MonitorReport, cfg: MonitorConfig) -> None:
    for version, h in report.health.items():
        if version == "all" or h.requests == 0:
            continue
        if h.error_rate > cfg.health.max_error_rate:
            report.alerts.append(
                f"v{version}: error rate {h.error_rate:.1%} > {cfg.health.max_error_rate:.1%}"
            )
        limit = cfg.health.max_latency_p95_ms
        if limit is not None and h.latency_p95_ms is not None and h.latency_p95_ms > limit:
            report.alerts.append(f"v{version}: p95 latency {h.latency_p95_ms:.1f} ms > {limit} ms")


def _drift_over_time(
    profile: ReferenceProfile, served: pa.Table, cfg: MonitorConfig, since: float, until: float
) -> list[dict[str, Any]]:
    """PSI per feature in each time bucket (drift that starts mid-window shows where)."""
    buckets = cfg.buckets
    width = max((until - since) / buckets, 1e-6)
    ts = served["ts"].to_numpy()
    idx = np.clip(((ts - since) // width).astype(np.int64), 0, buckets - 1)
    out = []
    order = np.argsort(idx, kind="stable")
    bounds = np.searchsorted(idx[order], np.arange(buckets + 1))
    for b in range(buckets):
        if bounds[b] == bounds[b + 1]:
            continue
        part = served.take(order[bounds[b] : bounds[b + 1]])
        if part.num_rows < cfg.drift.min_rows:
            continue
        res = profile.compare(part, cfg.drift)
        out.append(
            {
                "bucket_start": since + float(b) * width,
                "rows": part.num_rows,
                "psi": {n: d.psi for n, d in res.items() if d.psi is not None},
            }
        )
    return out


# --------------------------------------------------------------------------- recording

_METRIC_KEY = re.compile(r"[^A-Za-z0-9_\-. /]+")


def _key(*parts: str) -> str:
    return ".".join(_METRIC_KEY.sub("_", p) for p in parts)[:MAX_KEY]


def report_metrics(report: MonitorReport) -> dict[str, float]:
    m: dict[str, float] = {"live_rows": float(report.live_rows)}
    m["drift.n_drifted"] = float(len(report.drifted))
    for name, d in report.drift.items():
        for stat in ("psi", "ks", "chi2"):
            value = getattr(d, stat)
            if value is not None and np.isfinite(value):
                m[_key("drift", stat, name)] = float(value)
        m[_key("drift.missing_rate", name)] = float(d.missing_rate_live)
        m[_key("drift.unseen_rate", name)] = float(d.unseen_rate)
    if report.prediction_drift is not None and report.prediction_drift.psi is not None:
        m["prediction.psi"] = float(report.prediction_drift.psi)
        if report.prediction_drift.ks is not None:
            m["prediction.ks"] = float(report.prediction_drift.ks)
    if report.quality is not None:
        m["quality.labeled"] = float(report.quality.labeled)
        for version, q in report.quality.by_version.items():
            label = "all" if version == "all" else f"v{version}"
            for name, value in q["metrics"].items():
                m[_key("quality", label, name)] = float(value)
    for version, h in report.health.items():
        label = "all" if version == "all" else f"v{version}"
        for stat in (
            "requests",
            "rate_per_s",
            "error_rate",
            "client_error_rate",
            "latency_p50_ms",
            "latency_p95_ms",
            "latency_p99_ms",
        ):
            value = getattr(h, stat)
            if value is not None:
                m[_key("health", label, stat)] = float(value)
    return m


def record_report(gw: Gateway, report: MonitorReport) -> str:
    """One finished MLflow run (mlops.kind=monitor) in experiment ``<model>-monitoring``."""
    from mlflow.entities import Metric, Param, RunTag

    client = gw.client
    exp = gw.experiment_id(f"{report.model}-monitoring")
    tags = {
        KIND_TAG: MONITOR_KIND,
        MODEL_TAG: report.model,
        MONITOR_DRIFTED_TAG: ",".join(report.drifted)[:LIST_TEXT],
        MONITOR_ALERTS_TAG: str(len(report.alerts)),
    }
    if report.reference_version:
        tags[MODEL_VERSION_TAG] = str(report.reference_version)
    if report.canary is not None:
        tags[MONITOR_CANARY_TAG] = report.canary.decision
    run = client.create_run(exp, run_name=f"monitor-{report.model}", tags=tags)
    rid: str = run.info.run_id
    ts = int(report.until * 1000)
    metrics = [Metric(k, v, ts, 0) for k, v in report_metrics(report).items()]
    params = [
        Param("window_s", f"{report.until - report.since:g}"),
        Param("reference", (report.reference or "none")[:LINE_TEXT]),
    ]
    for i in range(0, len(metrics), 900):
        client.log_batch(
            rid,
            metrics=metrics[i : i + 900],
            params=params if i == 0 else [],
            tags=[RunTag(MONITOR_UNTIL_TAG, str(report.until))] if i == 0 else [],
        )
    client.log_text(rid, json.dumps(report.to_dict(), indent=1, default=str), "monitor/report.json")
    client.set_terminated(rid, "FINISHED")
    return rid


def write_latest(ws: Workspace, report: MonitorReport) -> None:
    """Latest drift scores beside the log, for the router's Prometheus gauges (atomic write)."""
    folder = ws.subdir("monitor") / model_folder_name(report.model)
    folder.mkdir(parents=True, exist_ok=True)
    data = {
        "model": report.model,
        "until": report.until,
        "psi": {n: d.psi for n, d in report.drift.items() if d.psi is not None},
        "ks": {n: d.ks for n, d in report.drift.items() if d.ks is not None},
        "drifted": report.drifted,
        "prediction_psi": report.prediction_drift.psi if report.prediction_drift else None,
    }
    tmp = folder / f".latest-{os.getpid()}.json"
    tmp.write_text(json.dumps(data))
    os.replace(tmp, folder / "latest.json")


# --------------------------------------------------------------------------- text


def _fmt_ts(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


def _ms(v: float | None) -> str:
    return "-" if v is None else f"{v:.1f}"


def _num(v: float | None, spec: str = ".3f") -> str:
    return "-" if v is None else format(v, spec)


def format_report(r: MonitorReport) -> str:
    lines = [f"Monitoring {r.model}: {_fmt_ts(r.since)} .. {_fmt_ts(r.until)}"]
    if r.aliases:
        lines.append("aliases: " + ", ".join(f"{a}=v{v}" for a, v in sorted(r.aliases.items())))
    lines += [
        "",
        "Health",
        f"  {'version':<10}{'requests':>9}{'req/s':>9}{'errors':>8}"
        f"{'4xx':>7}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}",
    ]
    for version, h in r.health.items():
        label = version if version == "all" else f"v{version}"
        lines.append(
            f"  {label:<10}{h.requests:>9}{h.rate_per_s:>9.2f}{h.error_rate:>8.1%}"
            f"{h.client_error_rate:>7.1%}{_ms(h.latency_p50_ms):>9}{_ms(h.latency_p95_ms):>9}"
            f"{_ms(h.latency_p99_ms):>9}"
        )
    lines += ["", f"Input drift ({r.reference or 'no reference'}; {r.live_rows} live rows)"]
    if r.drift:
        lines.append(
            f"  {'feature':<20}{'kind':<12}{'PSI':>8}{'KS':>8}{'missing':>9}{'unseen':>8}  verdict"
        )
        for name, d in sorted(r.drift.items(), key=lambda kv: -(kv[1].psi or 0)):
            verdict = "DRIFT: " + "; ".join(d.reasons) if d.drifted else (d.note or "ok")
            lines.append(
                f"  {name[:19]:<20}{d.kind:<12}{_num(d.psi):>8}{_num(d.ks):>8}"
                f"{d.missing_rate_live:>9.1%}{d.unseen_rate:>8.1%}  {verdict}"
            )
    else:
        lines.append("  (not computed)")
    if r.prediction_drift is not None:
        p = r.prediction_drift
        lines.append(
            f"Prediction drift: PSI {_num(p.psi)}  KS {_num(p.ks)}  "
            + ("DRIFT: " + "; ".join(p.reasons) if p.drifted else (p.note or "ok"))
        )
    if r.quality is not None:
        lines += ["", *r.quality.lines()]
    if r.canary is not None:
        lines += ["", "Canary: " + r.canary.summary()]
    if r.alerts:
        lines += ["", "Alerts"] + [f"  ! {a}" for a in r.alerts]
    if r.problems:
        lines += ["", "Notes"] + [f"  - {p}" for p in r.problems]
    if r.run_id:
        lines += ["", f"recorded as monitoring run {r.run_id}"]
    return "\n".join(lines)
