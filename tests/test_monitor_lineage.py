"""Drift against the training data found through lineage, on a real server with real traffic,
and the canary guard started by the server itself when mlops.yaml enables it."""

from __future__ import annotations

import time

import pytest
from release_support import FEATURES, fit_model, make_data

from jupyter_mlops.capture.tracker import track
from jupyter_mlops.cli import build_parser
from jupyter_mlops.datasets.api import log_dataset
from jupyter_mlops.demo.traffic import send_rows, send_traffic
from jupyter_mlops.errors import ConfigError
from jupyter_mlops.monitor.guard import CanaryGuard, start_guard
from jupyter_mlops.monitor.report import build_report
from jupyter_mlops.release import history, rollout
from jupyter_mlops.release.registration import register
from jupyter_mlops.serving.server import BackgroundServer
from jupyter_mlops.store.client import client_for
from jupyter_mlops.store.gateway import gateway_for


def _trained(ws, df, kind):
    """A tracked run that logs its training frame (context training) and its model."""
    with track(name=f"train-{kind}", workspace=ws) as run:
        log_dataset(df[FEATURES], name="churn-train", context="training", run=run, workspace=ws)
        run.log_model(fit_model(df, kind), name="model", X=df[FEATURES].head(20))
    return run.wait_synced()


def test_drift_found_against_the_training_data_through_lineage(workspace):
    (workspace.root / "mlops.yaml").write_text(
        "project: lineage\nmonitor:\n  canary: {min_requests: 20, window: 5m, interval: 0.2s,"
        " guard: true}\n"
    )
    df = make_data(400)
    mv = register(gateway_for(workspace), _trained(workspace, df, "good"), "churn")
    rollout.promote(
        gateway_for(workspace), "churn", mv.version, "champion", force=True, reason="test"
    )
    live = make_data(300, seed=7)[FEATURES]
    drifted = live.assign(age=live["age"] + 25)  # +2.5 sd

    with BackgroundServer(gateway_for(workspace), "churn", poll_interval=0.1) as srv:
        assert isinstance(srv.app.state.canary_guard, CanaryGuard)  # from mlops.yaml alone
        t0 = time.time()
        assert send_rows(srv.url, live.to_dict(orient="records")) == {(200, "1"): 300}
        t1 = time.time()
        assert send_rows(srv.url, drifted.to_dict(orient="records")) == {(200, "1"): 300}
        t2 = time.time() + 1e-3
        srv.app.state.prediction_log.flush()

        calm = build_report(gateway_for(workspace), "churn", since=t0, until=t1, record=False)
        shifted = build_report(gateway_for(workspace), "churn", since=t1, until=t2, record=False)
        for report in (calm, shifted):  # no reference given: found through lineage
            assert report.reference.startswith("training dataset churn-train"), report.problems
            assert set(report.drift) == set(FEATURES) and report.live_rows == 300
        assert calm.drifted == [] and shifted.drifted == ["age"]
        assert shifted.drift["age"].psi > 1 and shifted.drift["income"].psi < 0.2

        # the guard the server started rolls a bad canary back, no one calls it by hand
        bad = register(gateway_for(workspace), _trained(workspace, df, "bad"), "churn")
        rollout.promote(
            gateway_for(workspace),
            "churn",
            bad.version,
            "canary",
            weight=50,
            force=True,
            reason="t",
        )
        assert srv.router.wait_for(lambda t: t.canary is not None, timeout=10)
        ok, seen = send_traffic(
            srv.url,
            live.to_dict(orient="records"),
            until=lambda: srv.router.table.canary is None,
            seconds=30,
        )
        assert ok, srv.app.state.canary_guard.last
        assert seen[(200, "2")] >= 20
    last = history.events(gateway_for(workspace), "churn")[-1]
    assert (last.action, last.version, last.actor) == ("rollback", "2", "canary-guard")
    assert "canary" not in client_for(workspace).get_registered_model("churn").aliases


def test_guard_is_off_unless_asked_and_a_broken_section_only_fails_when_asked(workspace):
    assert start_guard(gateway_for(workspace), "churn") is None  # no mlops.yaml
    guard = start_guard(gateway_for(workspace), "churn", True)
    assert isinstance(guard, CanaryGuard)
    guard.stop()
    (workspace.root / "mlops.yaml").write_text("project: x\nmonitor:\n  canary: {guard: 1}\n")
    assert (
        start_guard(gateway_for(workspace), "churn") is None
    )  # serving keeps running, with a warning
    with pytest.raises(ConfigError, match="monitor.canary.guard"):
        start_guard(gateway_for(workspace), "churn", True)
    parse = build_parser().parse_args
    assert parse(["serve", "churn", "--guard"]).guard is True
    assert parse(["serve", "churn", "--no-guard"]).guard is False
    assert parse(["serve", "churn"]).guard is None


def test_a_tracked_cells_inputs_without_context_are_matched_by_the_signature(workspace):
    from jupyter_mlops.monitor.reference import training_reference

    df = make_data(300)
    with track(name="cell", workspace=workspace) as run:  # what %%mlops track records: X and y
        log_dataset(df["label"], name="y", run=run, workspace=workspace)
        log_dataset(df[FEATURES], name="X", run=run, workspace=workspace)
        log_dataset(df, name="everything", run=run, workspace=workspace)
        run.log_model(fit_model(df), name="model", X=df[FEATURES].head(20))
    run_id = run.wait_synced()
    mv = register(gateway_for(workspace), run_id, "churn")
    ref = training_reference(gateway_for(workspace), "churn", mv.version)
    assert ref.description.startswith("training dataset X "), ref.notes
    assert list(ref.frame.columns) == FEATURES and ref.features == FEATURES
    assert len(ref.predictions) == 300


def test_the_reference_never_loads_a_version_whose_files_changed_since_signing(workspace):
    from test_model_signing import _keys, _signing_workspace

    from jupyter_mlops.monitor.reference import training_reference
    from jupyter_mlops.release.registration import get_version, version_location
    from jupyter_mlops.release.signing import SIGNATURE_FILE

    _keys(workspace.root / "keys")
    ws = _signing_workspace(workspace, "{key: keys/release.pem}")
    df = make_data(300)
    with track(name="cell", workspace=ws) as run:
        log_dataset(df[FEATURES], name="X", run=run, workspace=ws)
        run.log_model(fit_model(df), name="model", X=df[FEATURES].head(20))
    mv = register(gateway_for(ws), run.wait_synced(), "churn")
    assert len(training_reference(gateway_for(ws), "churn", mv.version).predictions) == 300

    folder = version_location(gateway_for(ws), get_version(gateway_for(ws), "churn", 1)).local_path
    files = [p for p in folder.rglob("*") if p.is_file() and p.name != SIGNATURE_FILE]
    model_file = max(files, key=lambda p: p.stat().st_size)
    data = bytearray(model_file.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one byte changed in the store
    model_file.write_bytes(bytes(data))
    ref = training_reference(gateway_for(ws), "churn", mv.version)
    assert ref.predictions is None and ref.frame is not None  # input drift still computed
    assert any(f"{model_file.name} changed since it was signed" in note for note in ref.notes)
