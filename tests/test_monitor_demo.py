"""The monitoring stage of `make demo` on a small built project: drift told apart from no drift,
found against the training data through lineage, and a bad canary rolled back by the guard that
runs beside the server, with the reason in the release history."""

from __future__ import annotations

from release_support import FEATURES, fit_model, log_model_run, make_data

from jupyter_mlops.datasets.api import log_dataset
from jupyter_mlops.demo import monitor as demo
from jupyter_mlops.release import history
from jupyter_mlops.store.client import client_for
from jupyter_mlops.store.gateway import gateway_for

PROJECT = """\
project: monitor-demo-test
release:
  model: churn
  evaluation: {path: eval.csv, target: label}
  gates: {metrics: {accuracy: {min: 0.7}}}
monitor:
  drift: {psi: 0.2, ks: 0.2, min_rows: 30}
  canary: {window: 5m, min_requests: 20, interval: 0.3s}
"""


def test_monitor_demo_detects_drift_and_rolls_a_bad_canary_back(workspace, tmp_path):
    (workspace.root / "mlops.yaml").write_text(PROJECT)
    make_data(200, seed=3).to_csv(workspace.root / "eval.csv", index=False)
    df = make_data(400)
    client = client_for(workspace)
    for score in (0.8, 0.9):
        run_id, _ = log_model_run(workspace, fit_model(df), df)
        client.log_metric(run_id, "cv_accuracy", score)
        log_dataset(df[FEATURES], "train", context="training", run=run_id, workspace=workspace)

    lines: list[str] = []
    result = demo.run(gateway_for(workspace), say=lines.append, out_dir=tmp_path / "out")
    text = "\n".join(lines)

    assert result.champion == "1" and result.shifted == ["age", "income"]
    assert result.baseline.drifted == []  # the evaluation rows as they are: no drift
    assert sorted(result.drifted.drifted) == ["age", "income"]
    assert result.drifted.reference.startswith("training dataset train")  # through lineage
    assert result.drifted.run_id and result.baseline.run_id  # both recorded as monitoring runs
    assert "DRIFT: PSI" in text and "input drift in age" in text
    assert result.plot == tmp_path / "out" / "monitor_drift.png"
    assert result.plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    assert result.canary == "2"
    assert result.canary_traffic[(200, "2")] >= 20  # the guard waited for enough traffic
    assert set(result.after_rollback) == {(200, "1")}
    aliases = client.get_registered_model("churn").aliases
    assert "canary" not in aliases and str(aliases["champion"]) == "1"
    last = history.events(gateway_for(workspace), "churn")[-1]
    assert (last.action, last.version, last.actor) == ("rollback", "2", "canary-guard")
    assert "predictions differ from the champion's" in last.reason
    assert result.rollback_reason == last.reason
    assert "$ jupyter-mlops history churn" in text and "canary-guard rollback  v2" in text
