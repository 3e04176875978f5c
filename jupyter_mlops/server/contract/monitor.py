"""Monitoring: drift, the canary's verdict, quality and late labels."""

from __future__ import annotations

from typing import Any, Literal

from .base import TypedDict


class FeatureDrift(TypedDict):
    """How far one feature (or the predictions) drifted from the reference data, and why it
    counts as drifted; ``kind`` is numeric, categorical or skipped."""

    feature: str
    kind: str
    n_ref: int
    n_live: int
    psi: float | None
    ks: float | None
    ks_pvalue: float | None
    chi2: float | None
    chi2_pvalue: float | None
    missing_rate_ref: float
    missing_rate_live: float
    unseen_rate: float
    unseen_values: list[str]
    drifted: bool
    reasons: list[str]
    note: str | None


class CanaryVerdict(TypedDict):
    """The canary guard's verdict: none, wait, keep, rollback or alert, and why."""

    model: str
    decision: str
    canary: str | None
    champion: str | None
    reasons: list[str]
    canary_health: dict[str, Any] | None
    champion_health: dict[str, Any] | None
    prediction_psi: float | None
    acted: bool


class DriftBucket(TypedDict):
    """One time bucket of the monitored inputs: the PSI of each feature."""

    bucket_start: float
    rows: int
    psi: dict[str, float]


class VersionQuality(TypedDict):
    """One version's quality from late labels: how many of its predictions have a label, and
    the figures (accuracy, precision, recall, auc; or mae, rmse) over them."""

    labeled: int
    metrics: dict[str, float]


class QualityBucket(VersionQuality):
    """One version's quality in one time bucket (by when the predictions were made)."""

    bucket_start: float
    version: str


class QualitySummary(TypedDict):
    """Quality of the window's predictions that have late labels: per version (``all``: every
    version that served, shadow excluded) and over time; ``coverage`` is labeled / predictions."""

    task: Literal["classification", "regression"] | None
    labels: int
    predictions: int
    labeled: int
    coverage: float | None
    by_version: dict[str, VersionQuality]
    over_time: list[QualityBucket]


class LabelImport(TypedDict):
    """``POST monitor/{model}/labels``: how many labels came, how many met a logged prediction,
    the file they are kept in (None: the same labels came before) and their quality per version."""

    model: str
    source: str
    rows: int
    matched: int
    unmatched: int
    skipped: int
    file: str | None
    shipped: bool
    quality: dict[str, VersionQuality]
    problems: list[str]


class MonitorReport(TypedDict):
    """``GET monitor/{model}``: health per version and drift per feature of the served model,
    over a window (``since`` / ``until`` in seconds since the epoch). ``health`` and
    ``health_over_time`` rows are records of numbers by name (requests, error_rate,
    latency_p95_ms...), which the sidebar reads by field name."""

    model: str
    since: float
    until: float
    aliases: dict[str, str]
    reference_version: str | None
    reference: str
    live_rows: int
    health: dict[str, dict[str, Any]]
    drift: dict[str, FeatureDrift]
    drifted: list[str]
    prediction_drift: FeatureDrift | None
    drift_over_time: list[DriftBucket]
    health_over_time: list[dict[str, Any]]
    canary: CanaryVerdict | None
    quality: QualitySummary | None
    problems: list[str]
    alerts: list[str]
    run_id: str | None
