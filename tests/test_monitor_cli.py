"""``jupyter-mlops monitor`` and ``%mlops monitor`` as a user calls them, and the report figure."""

from __future__ import annotations

import json
import time

from monitor_support import stream, training_frame

from jupyter_mlops.cli import main
from jupyter_mlops.monitor.predlog import PredictionLog
from jupyter_mlops.monitor.report import build_report
from jupyter_mlops.store.gateway import gateway_for


def _log(ws, records, model="ghost"):
    with PredictionLog(gateway_for(ws), model) as log:
        for r in records:
            log.append(r)


def test_cli_prints_report_and_json_and_rejects_bad_window(workspace, capsys):
    _log(workspace, stream(40, t0=time.time() - 30, seed=1))
    assert main(["-C", str(workspace.root), "monitor", "ghost", "--window", "5m"]) == 0
    out = capsys.readouterr().out
    assert "Monitoring ghost" in out and "Health" in out and "not a registered model" in out
    assert "recorded as monitoring run" in out
    assert main(["-C", str(workspace.root), "monitor", "ghost", "--json", "--no-record"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["health"]["all"]["requests"] == 40 and data["run_id"] is None
    assert main(["-C", str(workspace.root), "monitor", "ghost", "--window", "soon"]) == 2
    assert "not a duration" in capsys.readouterr().err


def test_report_figure_has_feature_drift_and_time_panels(workspace):
    now = time.time()
    _log(workspace, stream(100, t0=now - 300, seed=1, dt=1.0))
    _log(workspace, stream(100, t0=now - 100, seed=2, dt=1.0, drift=True))
    report = build_report(
        gateway_for(workspace), "ghost", window="10m", reference=training_frame(), record=False
    )
    from jupyter_mlops.monitor.plots import report_figure

    fig = report_figure(report)
    titles = [ax.get_title() for ax in fig.axes]
    assert any(t.startswith("age: PSI") for t in titles)
    assert "input drift over time (PSI)" in titles and "latency over time (p95, ms)" in titles


def test_magic_shows_report(workspace, capsys):
    from IPython.core.interactiveshell import InteractiveShell

    _log(workspace, stream(40, t0=time.time() - 30, seed=1))
    shell = InteractiveShell.instance()
    try:
        shell.run_line_magic("load_ext", "jupyter_mlops")
        report = shell.run_line_magic("mlops", "monitor ghost --no-record --no-plot")
    finally:
        shell.run_line_magic("unload_ext", "jupyter_mlops")
        InteractiveShell.clear_instance()
    assert report.health["all"].requests == 40
    assert "Monitoring ghost" in capsys.readouterr().out
