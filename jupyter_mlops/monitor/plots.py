"""Matplotlib figures of a monitoring report: training vs live per drifting feature, drift over
time, latency over time. Returns a Figure; the notebook front end displays it."""

from __future__ import annotations

from typing import Any

from .drift import FeatureDrift
from .report import MonitorReport

MAX_FEATURE_PANELS = 4


def report_figure(report: MonitorReport) -> Any:
    import matplotlib

    if matplotlib.get_backend().lower() == "agg":
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    drifting = [n for n in report.drifted if report.drift[n].ref_dist][:MAX_FEATURE_PANELS]
    if not drifting:  # show the most shifted features anyway
        ranked = sorted(report.drift.values(), key=lambda d: -(d.psi or 0))
        drifting = [d.feature for d in ranked if d.ref_dist][:2]
    n_top = max(len(drifting), 1)
    fig = plt.figure(figsize=(4 * max(n_top, 2), 7.5), layout="constrained")
    grid = fig.add_gridspec(2, max(n_top, 2))
    for i, name in enumerate(drifting):
        d = report.drift[name]
        ax = fig.add_subplot(grid[0, i])
        x = np.arange(len(d.ref_dist))
        ax.bar(x - 0.2, d.ref_dist, 0.4, label="training")
        ax.bar(x + 0.2, d.live_dist, 0.4, label="live")
        labels = [f"{b:.3g}" if isinstance(b, float) else str(b) for b in d.bins]
        ax.set_xticks(x, labels, rotation=60, fontsize=7)
        status = "drift" if d.drifted else "ok"
        ax.set_title(f"{name}: PSI {d.psi:.2f} ({status})", fontsize=9)
        if i == 0:
            ax.legend(fontsize=7)
            ax.set_ylabel("share of rows")
    if not drifting:
        ax = fig.add_subplot(grid[0, :])
        ax.text(
            0.5,
            0.5,
            "no input drift computed\n" + "\n".join(report.problems[:3]),
            ha="center",
            va="center",
            fontsize=8,
            wrap=True,
        )
        ax.set_axis_off()
    half = max(n_top, 2) // 2
    ax = fig.add_subplot(grid[1, :half])
    if report.drift_over_time:
        times = [b["bucket_start"] - report.until for b in report.drift_over_time]
        names = sorted(
            {k for b in report.drift_over_time for k in b["psi"]},
            key=lambda k: -max(b["psi"].get(k, 0) for b in report.drift_over_time),
        )[:6]
        for name in names:
            ax.plot(
                [t / 60 for t in times],
                [b["psi"].get(name, np.nan) for b in report.drift_over_time],
                marker="o",
                ms=3,
                label=name,
            )
        ax.axhline(0.2, color="grey", ls="--", lw=0.8)
        ax.legend(fontsize=7)
    ax.set_title("input drift over time (PSI)", fontsize=9)
    ax.set_xlabel("minutes before now")
    ax = fig.add_subplot(grid[1, half:])
    versions = sorted({r["version"] for r in report.health_over_time})
    for v in versions:
        rows = [r for r in report.health_over_time if r["version"] == v]
        ax.plot(
            [(r["bucket_start"] - report.until) / 60 for r in rows],
            [r["latency_p95_ms"] if r["latency_p95_ms"] is not None else np.nan for r in rows],
            marker="o",
            ms=3,
            label=f"v{v} p95",
        )
    if versions:
        ax.legend(fontsize=7)
    ax.set_title("latency over time (p95, ms)", fontsize=9)
    ax.set_xlabel("minutes before now")
    fig.suptitle(f"{report.model}: monitoring", fontsize=11)
    return fig


def feature_figure(drift: FeatureDrift, title: str = "") -> Any:
    """Training versus live distribution of one feature (the PSI bins), as a small bar chart."""
    import numpy as np
    from matplotlib.figure import Figure  # no pyplot: leaves a notebook's backend alone

    fig = Figure(figsize=(7, 4), layout="constrained")
    ax = fig.add_subplot()
    x = np.arange(len(drift.ref_dist))
    ax.bar(x - 0.2, drift.ref_dist, 0.4, label=f"training ({drift.n_ref} rows)")
    ax.bar(x + 0.2, drift.live_dist, 0.4, label=f"live ({drift.n_live} rows)")
    labels = [
        (f">= {b:.3g}" if np.isfinite(b) else f"< {drift.bins[1]:.3g}")
        if isinstance(b, float) and len(drift.bins) > 1
        else str(b)
        for b in drift.bins
    ]
    ax.set_xticks(x, labels, rotation=45, fontsize=8)
    ax.set_ylabel("share of rows")
    verdict = "DRIFT: " + "; ".join(drift.reasons) if drift.drifted else "no drift"
    ax.set_title(f"{title}{drift.feature}: {verdict}", fontsize=10)
    ax.legend(fontsize=8)
    return fig
