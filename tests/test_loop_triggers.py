"""Each trigger kind against real things: the clock (croniter), files and folders, a command's
output, a registered dataset's versions, and the monitor's drift over a real prediction log."""

from __future__ import annotations

import time

import numpy as np
import pytest
from release_support import FEATURES, fit_model, log_model_run, make_data

from jupyter_mlops.loop.firing import TriggerCheck
from jupyter_mlops.loop.spec import Trigger
from jupyter_mlops.loop.triggers import PROBES
from jupyter_mlops.store.gateway import gateway_for


def probe(ws, trigger: Trigger, memory: dict, now: float | None = None):
    return PROBES[trigger.kind](TriggerCheck(gateway_for(ws), "churn", now), trigger, memory)


def test_a_schedule_fires_once_when_due_even_after_missed_firings(workspace):
    every5 = Trigger("five", "schedule", cron="*/5 * * * *")
    t0 = 1_800_000_000.0  # a multiple of five minutes
    memory: dict = {}
    assert probe(workspace, every5, memory, now=t0 + 1) is None  # first sight: the next firing
    assert memory["next"] == t0 + 300
    assert probe(workspace, every5, memory, now=t0 + 299) is None
    firing = probe(workspace, every5, memory, now=t0 + 301)
    assert firing is not None and firing.reason.startswith("schedule */5 * * * *")
    assert memory["next"] == t0 + 600
    # three hours without a loop: one firing, not thirty-six
    late = t0 + 3 * 3600 + 30
    assert probe(workspace, every5, memory, now=late) is not None
    assert probe(workspace, every5, memory, now=late + 1) is None
    assert memory["next"] == t0 + 3 * 3600 + 300


def test_watched_files_and_folders_fire_when_their_content_changes(workspace):
    root = workspace.root
    watch = Trigger("new-data", "watch", paths=("data/raw.csv", "incoming/"))
    memory: dict = {}
    assert probe(workspace, watch, memory) is None  # baseline: neither exists
    (root / "data").mkdir()
    (root / "data" / "raw.csv").write_text("a,b\n1,2\n")
    firing = probe(workspace, watch, memory)
    assert firing is not None and firing.reason == "data/raw.csv, incoming/ appeared"
    assert probe(workspace, watch, memory) is None  # nothing changed
    (root / "incoming").mkdir()
    (root / "incoming" / "batch-1.csv").write_text("a,b\n3,4\n")
    assert probe(workspace, watch, memory).reason.endswith("changed")
    (root / "data" / "raw.csv").write_text("a,b\n1,2\n")  # same bytes, new mtime
    assert probe(workspace, watch, memory) is None


def test_a_command_fires_when_its_output_changes_and_says_why_it_cannot_run(workspace):
    (workspace.root / "count.txt").write_text("10\n")
    count = Trigger("rows", "command", command="cat count.txt", timeout=10)
    memory: dict = {}
    assert probe(workspace, count, memory) is None
    assert probe(workspace, count, memory) is None
    (workspace.root / "count.txt").write_text("12\n")
    assert probe(workspace, count, memory).reason == "the output of `cat count.txt` changed"
    broken = Trigger("broken", "command", command="echo nope >&2; exit 3", timeout=10)
    memory = {}
    assert probe(workspace, broken, memory) is None
    assert memory["error"] == "exit code 3: nope"


def test_a_dataset_trigger_fires_on_a_new_registered_version(workspace):
    from jupyter_mlops.datasets.api import log_dataset

    new_version = Trigger("tx", "dataset", dataset="transactions")
    memory: dict = {}
    assert probe(workspace, new_version, memory) is None and memory["digest"] is None
    log_dataset(make_data(50), "transactions", workspace=workspace)
    assert "transactions@1" in probe(workspace, new_version, memory).reason
    assert probe(workspace, new_version, memory) is None
    log_dataset(make_data(60, seed=2), "transactions", workspace=workspace)
    assert "transactions@2" in probe(workspace, new_version, memory).reason


def served(ws, *, start: float, n: int, age_shift: float, seed: int = 1) -> None:
    """``n`` requests of the champion (v1) in the prediction log, one a second from ``start``."""
    from jupyter_mlops.monitor.predlog import PredictionLog

    rng = np.random.default_rng(seed)
    with PredictionLog(gateway_for(ws), "churn") as log:
        for i in range(n):
            ages = rng.normal(40 + age_shift, 10, 4)
            log.append(
                {
                    "ts": start + i,
                    "model": "churn",
                    "version": "1",
                    "alias": "champion",
                    "request_id": f"r{seed}-{i}",
                    "latency_ms": 2.0,
                    "status": 200,
                    "inputs": {
                        "age": ages.tolist(),
                        "income": rng.normal(50, 15, 4).tolist(),
                        "tenure": rng.integers(0, 20, 4).astype(float).tolist(),
                        "group": rng.integers(0, 2, 4).tolist(),
                    },
                    "outputs": (ages > 45).astype(int).tolist(),
                    "error": None,
                }
            )


@pytest.fixture
def champion(workspace):
    """churn v1, the champion, with its training data logged (drift is measured against it)."""
    from jupyter_mlops.datasets.api import log_dataset
    from jupyter_mlops.release.registration import register
    from jupyter_mlops.release.rollout import promote

    (workspace.root / "mlops.yaml").write_text(
        "project: alerts\nmonitor:\n  drift: {psi: 0.2, ks: 0.2, min_rows: 30}\n"
    )
    df = make_data(400)
    run_id, _ = log_model_run(workspace, fit_model(df), df)
    log_dataset(df[FEATURES], "train", context="training", run=run_id, workspace=workspace)
    mv = register(gateway_for(workspace), run_id, "churn")
    promote(gateway_for(workspace), "churn", mv.version, "champion", force=True, reason="test")
    return workspace


def test_an_alert_fires_once_its_condition_held_long_enough_then_rearms(champion):
    ws = champion
    drift = Trigger("drift", "alert", signal="input_drift", threshold=0.5, window=600, sustained=60)
    t0 = time.time() - 3600
    served(ws, start=t0 - 300, n=150, age_shift=25.0)  # five minutes of older customers
    memory: dict = {}
    assert probe(ws, drift, memory, now=t0) is None  # holds, not yet for a minute
    assert memory["since"] == t0 and memory["value"] > 0.5
    assert probe(ws, drift, memory, now=t0 + 30) is None
    firing = probe(ws, drift, memory, now=t0 + 61)
    assert firing is not None and firing.trigger == "drift"
    assert firing.reason.startswith("input drift: age PSI") and "(held 61 s)" in firing.reason
    assert probe(ws, drift, memory, now=t0 + 90) is None  # the same episode fires once
    outputs = Trigger("outputs", "alert", signal="prediction_drift", threshold=0.1, window=600)
    shifted = probe(ws, outputs, {}, now=t0)  # older customers: more predicted churn
    assert shifted is not None and shifted.reason.startswith("prediction drift: PSI ")
    # an hour later the window is calm: the alert re-arms
    served(ws, start=t0 + 1200, n=150, age_shift=0.0, seed=2)
    assert probe(ws, drift, memory, now=t0 + 1500) is None
    assert "since" not in memory and "armed" not in memory and memory["value"] < 0.5


def test_calm_traffic_fires_no_drift_alert(champion):
    ws = champion
    drift = Trigger("drift", "alert", signal="input_drift", window=600)  # monitor's thresholds
    now = time.time()
    served(ws, start=now - 200, n=150, age_shift=0.0)
    memory: dict = {}
    assert probe(ws, drift, memory, now=now) is None and "since" not in memory


def test_a_quality_alert_fires_when_labelled_accuracy_drops(champion, tmp_path):
    from jupyter_mlops.cli import main

    ws = champion
    now = time.time()
    served(ws, start=now - 200, n=100, age_shift=0.0)
    labels = tmp_path / "labels.csv"
    # every prediction said 1 for ages over 45; the truth says the opposite
    labels.write_text("request_id,label\n" + "".join(f"r1-{i},0\n" for i in range(100)))
    assert main(["monitor", "labels", "churn", str(labels)]) == 0
    quality = Trigger(
        "quality", "alert", signal="quality", metric="accuracy", threshold=0.8, window=600
    )
    firing = probe(ws, quality, {}, now=now)
    assert firing is not None and firing.reason.startswith("accuracy ")
