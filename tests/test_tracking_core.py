"""track(), the outbox and the replayer against a real SQLite MLflow store."""

from __future__ import annotations

import json
import sqlite3

import pytest

import jupyter_mlops
from jupyter_mlops.capture import tracker
from jupyter_mlops.errors import InvalidInput
from jupyter_mlops.journal.records import LogData, LogText
from jupyter_mlops.store.client import client_for
from jupyter_mlops.store.gateway import gateway_for
from jupyter_mlops.store.run_details import read_json_artifact, run_detail
from jupyter_mlops.store.runs import get_run


def _finish(ws, run):
    run_id = run.wait_run_id()
    tracker.shutdown_recorders()
    return client_for(ws).get_run(run_id)


def test_track_records_params_metric_curves_and_environment(workspace):
    with jupyter_mlops.track(name="t1", workspace=workspace, tags={"team": "a"}) as run:
        jupyter_mlops.log_params(lr=0.1, layers=[8, 4])
        for i in range(3):
            jupyter_mlops.log_metrics(loss=1.0 / (i + 1))
    got = _finish(workspace, run)
    assert got.info.status == "FINISHED"
    assert got.data.params == {"lr": "0.1", "layers": "[8, 4]"}
    assert got.data.tags["team"] == "a"
    assert got.data.tags["mlops.run_key"] == run.key
    history = client_for(workspace).get_metric_history(got.info.run_id, "loss")
    assert [(m.step, round(m.value, 3)) for m in sorted(history, key=lambda m: m.step)] == [
        (0, 1.0),
        (1, 0.5),
        (2, 0.333),
    ]
    env = read_json_artifact(gateway_for(workspace), got.info.run_id, "mlops/environment.json")
    assert env["hash"] == got.data.tags["mlops.env_hash"]
    assert env["distributions"]["mlflow"]


def test_exception_marks_failed_and_reraises(workspace):
    with (
        pytest.raises(ZeroDivisionError),
        jupyter_mlops.track(name="boom", workspace=workspace) as run,
    ):
        1 / 0  # noqa: B018
    got = _finish(workspace, run)
    assert got.info.status == "FAILED"
    assert got.data.tags["mlops.error_type"] == "ZeroDivisionError"


def test_interrupt_marks_killed(workspace):
    with pytest.raises(KeyboardInterrupt), jupyter_mlops.track(workspace=workspace) as run:
        raise KeyboardInterrupt
    assert _finish(workspace, run).info.status == "KILLED"


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: jupyter_mlops.log_metrics(acc="high"), "not a number"),
        (lambda: jupyter_mlops.log_metrics(acc=float("nan")), "nan"),
        (lambda: jupyter_mlops.log_params({"bad key!": 1}), "characters"),
        (lambda: jupyter_mlops.log_params({"k" * 300: 1}), "limit"),
        (lambda: jupyter_mlops.log_params(p="x" * 7000), "limit"),
    ],
)
def test_bad_records_are_refused_whole_and_nothing_is_journaled(workspace, call, message):
    with jupyter_mlops.track(workspace=workspace) as run:
        jupyter_mlops.log_metrics(ok=1.0, fine=2.0)
        with pytest.raises(InvalidInput, match=message):
            call()
    got = _finish(workspace, run)
    assert got.data.metrics == {"ok": 1.0, "fine": 2.0}
    assert got.data.params == {}


def test_param_cannot_change_within_a_run(workspace):
    with jupyter_mlops.track(workspace=workspace):
        jupyter_mlops.log_params(lr=0.1)
        jupyter_mlops.log_params(lr=0.1)  # same value again is fine
        with pytest.raises(InvalidInput, match="already logged"):
            jupyter_mlops.log_params(lr=0.2)


def test_logging_outside_a_run_warns_once_and_does_nothing():
    """Instrumented code runs in untracked cells too: as MLflow's autolog outside a run."""
    tracker.shutdown_recorders()
    tracker._warned_untracked.clear()
    with pytest.warns(tracker.UntrackedCall, match="no run is being tracked") as caught:
        jupyter_mlops.log_metrics(x=1)
        jupyter_mlops.log_metrics(x=2)  # once per function, not per call
        jupyter_mlops.log_params(lr=0.1)
    assert [str(w.message).split(":")[0] for w in caught] == [
        "jupyter_mlops.log_metrics",
        "jupyter_mlops.log_params",
    ]


def test_model_logged_with_signature_example_and_pinned_requirements(workspace, monkeypatch):
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    X, y = load_iris(return_X_y=True, as_frame=True)
    with jupyter_mlops.track(workspace=workspace) as run:
        jupyter_mlops.log_model(LogisticRegression(max_iter=500).fit(X, y), name="clf", X=X)
    got = _finish(workspace, run)
    [output] = got.outputs.model_outputs
    import mlflow.artifacts
    import mlflow.pyfunc
    from mlflow.models import get_model_info

    monkeypatch.setenv("MLFLOW_TRACKING_URI", workspace.tracking_uri)  # MLflow's loaders are fluent
    uri = f"models:/{output.model_id}"
    assert got.data.tags["mlops.model.clf"] == uri
    info = get_model_info(uri)
    assert [c.name for c in info.signature.inputs] == list(X.columns)
    assert info.saved_input_example_info is not None
    location = client_for(workspace).get_logged_model(output.model_id).artifact_location
    requirements = mlflow.artifacts.load_text(f"{location}/requirements.txt")
    assert "scikit-learn==" in requirements and "mlflow==" in requirements
    model = mlflow.pyfunc.load_model(uri)
    assert list(model.predict(X.iloc[:3])) == [0, 0, 0]
    detail = run_detail(gateway_for(workspace), got.info.run_id)
    assert detail["models"][0]["name"] == "clf"


@pytest.mark.embedded_only
def test_nothing_written_to_the_current_folder(workspace, tmp_path, monkeypatch):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    with jupyter_mlops.track(workspace=workspace) as run:
        jupyter_mlops.log_metrics(x=1)
    _finish(workspace, run)
    assert list(elsewhere.iterdir()) == []
    assert (workspace.state_dir / "mlflow.db").exists()


def test_replay_is_exactly_once_when_an_answer_was_lost(workspace):
    """An op sent but not confirmed (attempts > 0) is checked on the server, not duplicated."""
    run = tracker.RunRecorder(workspace, name="once").start()
    run.log_metrics({"m": 1.0}, step=0)
    sink = run._sink
    sink.flush_now()
    run_id = run.run_id
    # replay the same op again, as if the process had died between sending and deleting it
    box = sink.box
    box.append(run.key, LogData(metrics=[("m", 1.0, 1700000000000, 7)]))
    box.conn.execute("UPDATE ops SET attempts = 0")
    sink.flush_now()
    box.append(run.key, LogData(metrics=[("m", 1.0, 1700000000000, 7)]))
    box.conn.execute("UPDATE ops SET attempts = 1")
    sink.flush_now()
    run.end()
    tracker.shutdown_recorders()
    history = client_for(workspace).get_metric_history(run_id, "m")
    assert sorted(m.step for m in history) == [0, 7]  # the re-sent step 7 landed once


def test_a_refused_op_does_not_block_later_ones(workspace):
    run = tracker.RunRecorder(workspace, name="poison").start()
    box = run._sink.box
    box.append(run.key, LogData(params={"p": "1"}))
    box.append(run.key, LogText("x", "x.txt"))
    box.append(run.key, LogData(params={"p": "2"}))  # MLflow refuses the change
    run.log_metrics({"after": 1.0})
    run._sink.flush_now()
    run.end()
    tracker.shutdown_recorders()
    got = get_run(gateway_for(workspace), run.key)
    assert got.data.metrics["after"] == 1.0
    journals = list((workspace.state_dir / "outbox").glob("*.db"))
    assert journals, "the refused record is kept for inspection"
    with sqlite3.connect(journals[0]) as con:
        [(payload,)] = con.execute("SELECT payload FROM failed_ops").fetchall()
    assert json.loads(payload)["params"]


def test_journal_is_removed_once_drained(workspace):
    with jupyter_mlops.track(workspace=workspace):
        jupyter_mlops.log_metrics(x=1)
    tracker.shutdown_recorders(timeout=120)  # a first agent starts at low priority: seconds
    assert list((workspace.state_dir / "outbox").glob("*.db")) == []


def test_wait_synced_returns_once_the_model_landed_and_its_staged_copy_is_gone(workspace):
    from sklearn.linear_model import LinearRegression

    with jupyter_mlops.track(workspace=workspace) as run:
        key = jupyter_mlops.log_model(LinearRegression().fit([[0], [1]], [0, 1]), name="lin")
    run_id = run.wait_synced()
    assert client_for(workspace).get_run(run_id).outputs.model_outputs
    assert not (run._sink.box.blob_dir / run.key / key).exists()


def test_untracked_calls_start_one_run_when_mlops_yaml_asks(workspace):
    (workspace.root / "mlops.yaml").write_text("untracked_calls: start_run\n")
    tracker.shutdown_recorders()
    jupyter_mlops.log_metrics(loss=0.5)
    jupyter_mlops.log_metrics(loss=0.25)
    jupyter_mlops.log_params(lr=0.1)
    [run] = tracker._implicit
    tracker._end_implicit()  # as at the process's exit: the run ends FINISHED
    landed = get_run(gateway_for(workspace), run.wait_synced())
    assert landed.info.run_name == "untracked-calls" and landed.info.status == "FINISHED"
    assert landed.data.params == {"lr": "0.1"} and landed.data.metrics["loss"] == 0.25
    (workspace.root / "mlops.yaml").write_text("untracked_calls: sometimes\n")
    # the bad mode is named; "no run is being tracked" may follow, once per process and function
    with pytest.warns(tracker.UntrackedCall) as caught:
        jupyter_mlops.log_metrics(loss=1.0)
    assert any("untracked_calls is 'sometimes'" in str(w.message) for w in caught), caught.list
