"""The outbox and its replayer under injected faults, against a real SQLite MLflow store.

A stateful property test journals runs, params, metrics, files and models, and replays them
through a client that fails calls before they reach the server and loses answers after the
server did the work. Whatever the order, once the faults stop everything is in MLflow exactly
once: one run per journal key, every metric once, every model READY with its files and linked
once, and nothing left in ``failed_ops``.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    rule,
    run_state_machine_as_test,
)
from replay_faults import FAULTS, REPLAY_METHODS, FlakyClient

from jupyter_mlops.journal.faults import DOWN, REFUSED, SERVER, classify
from jupyter_mlops.journal.outbox import Outbox
from jupyter_mlops.journal.records import CreateRun, EndRun, LogArtifact, LogData, LogModel
from jupyter_mlops.journal.replay import Replayer
from jupyter_mlops.store.client import client_for
from jupyter_mlops.store.runs import RUN_KEY_TAG
from jupyter_mlops.workspace import Workspace


def _staged_model_template(folder: Path) -> Path:
    from sklearn.linear_model import LogisticRegression

    from jupyter_mlops.store.logged_models import save_sklearn_model

    X = [[0.0, 1.0], [1.0, 0.0], [0.5, 0.5], [0.9, 0.1]]
    est = LogisticRegression().fit(X, [0, 1, 0, 1])
    save_sklearn_model(est, folder / "model", X[:2], ["scikit-learn"])
    (folder / "model.json").write_text('{"class": "LogisticRegression"}')
    return folder


def _machine(ws: Workspace, template: Path) -> type[RuleBasedStateMachine]:
    class JournalUnderFaults(RuleBasedStateMachine):
        runs = Bundle("runs")

        @initialize()
        def open_journal(self) -> None:
            self.experiment = f"faults-{uuid.uuid4().hex[:8]}"
            self.box = Outbox.create(ws)
            self.client = FlakyClient(client_for(ws))
            self.replayer = Replayer(ws, self.box, self.client)
            self.metrics: dict[str, list[float]] = {}
            self.params: dict[str, dict[str, str]] = {}
            self.models: dict[str, list[str]] = {}
            self.files: dict[str, list[str]] = {}
            self.ended: set[str] = set()
            self.clock = 1_700_000_000_000

        @rule(target=runs)
        def create_run(self) -> str:
            key = uuid.uuid4().hex
            self.box.append(key, CreateRun(experiment=self.experiment, name=key[:6]))
            self.metrics[key], self.params[key] = [], {}
            self.models[key], self.files[key] = [], []
            return key

        @rule(run=runs, value=st.floats(-10, 10, allow_nan=False))
        def log_metric(self, run: str, value: float) -> None:
            if run in self.ended:
                return
            self.clock += 1
            step = len(self.metrics[run])
            self.box.append(run, LogData(metrics=[("m", value, self.clock, step)]))
            self.metrics[run].append(value)

        @rule(run=runs)
        def log_param(self, run: str) -> None:
            if run in self.ended:
                return
            name = f"p{len(self.params[run])}"
            self.box.append(run, LogData(params={name: "v"}, tags={"t": name}))
            self.params[run][name] = "v"

        @rule(run=runs)
        def log_file(self, run: str) -> None:
            if run in self.ended:
                return
            name = f"f{len(self.files[run])}.txt"
            source = self.box.path.parent / f"src-{uuid.uuid4().hex[:6]}.txt"
            source.write_text(name)
            staged = self.box.stage_blob(run, source, name)
            source.unlink()
            self.box.append(run, LogArtifact(str(staged)))
            self.files[run].append(name)

        @rule(run=runs)
        def log_model(self, run: str) -> None:
            if run in self.ended:
                return
            model_key = uuid.uuid4().hex
            staging = self.box.blob_dir / run / model_key
            shutil.copytree(template, staging)
            payload = LogModel(path=str(staging / "model"), name="clf", model_key=model_key)
            self.box.append(run, payload)
            self.models[run].append(model_key)

        @rule(run=consumes(runs))
        def end_run(self, run: str) -> None:
            self.box.append(run, EndRun("FINISHED", end_time=self.clock))
            self.ended.add(run)

        @rule(faults=st.lists(st.sampled_from(FAULTS), max_size=12))
        def flush_with_faults(self, faults: list[str]) -> None:
            self.client.plan.extend(faults)
            self.replayer.flush()
            self.client.plan.clear()

        @rule(method=st.sampled_from(REPLAY_METHODS), fault=st.sampled_from(FAULTS[1:]))
        def arm_a_fault(self, method: str, fault: str) -> None:
            """The next call of ``method``, in whichever later flush, fails with ``fault``."""
            self.client.by_method[method] = fault

        def teardown(self) -> None:
            self.client.by_method.clear()
            try:
                for _ in range(50):
                    if self.replayer.flush().pending == 0:
                        break
                self._check_everything_landed_once()
            finally:
                self.box.close()
                self.box.lock.release()

        def _check_everything_landed_once(self) -> None:
            con = self.box.conn
            assert con.execute("SELECT COUNT(*) FROM ops").fetchone()[0] == 0
            assert con.execute("SELECT * FROM failed_ops").fetchall() == []
            real = client_for(ws)
            exp = real.get_experiment_by_name(self.experiment)
            for key in self.metrics:
                found = real.search_runs(
                    [exp.experiment_id], filter_string=f"tags.`{RUN_KEY_TAG}` = '{key}'"
                )
                assert len(found) == 1, f"run {key} landed {len(found)} times"
                run = found[0]
                history = real.get_metric_history(run.info.run_id, "m")
                assert sorted(h.value for h in history) == sorted(self.metrics[key])
                assert {k: v for k, v in run.data.params.items()} == self.params[key]
                assert run.info.status == ("FINISHED" if key in self.ended else "RUNNING")
                names = sorted(a.path for a in real.list_artifacts(run.info.run_id))
                assert names == sorted(self.files[key])
                linked = [o.model_id for o in run.outputs.model_outputs]
                assert len(linked) == len(set(linked)) == len(self.models[key])
                for model_key in self.models[key]:
                    models = real.search_logged_models(
                        experiment_ids=[exp.experiment_id],
                        filter_string=f"tags.`mlops.model_key` = '{model_key}'",
                    )
                    assert len(models) == 1, f"model {model_key} created {len(models)} times"
                    model = models[0]
                    assert str(model.status).endswith("READY")
                    assert model.model_id in linked
                    files = {a.path for a in real.list_logged_model_artifacts(model.model_id)}
                    assert "MLmodel" in files and "model.pkl" in files
            leftovers = [p for p in self.box.blob_dir.rglob("*") if p.is_file()]
            assert leftovers == [], "staged copies are dropped once their upload is confirmed"

    return JournalUnderFaults


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _staged_model_template(tmp_path_factory.mktemp("template"))


@pytest.mark.parametrize("method", REPLAY_METHODS)
@pytest.mark.parametrize("fault", FAULTS[1:])
def test_one_failed_call_anywhere_loses_and_duplicates_nothing(workspace, template, method, fault):
    machine = _machine(workspace, template)()
    machine.open_journal()
    run = machine.create_run()
    machine.log_param(run)
    machine.log_metric(run, 1.0)
    machine.log_file(run)
    machine.log_model(run)
    machine.arm_a_fault(method, fault)
    machine.flush_with_faults([])
    machine.log_metric(run, 2.0)
    machine.end_run(run)
    machine.flush_with_faults([])  # the retry, and what came after
    machine.teardown()


def test_every_record_lands_exactly_once_whatever_fails_when(workspace, template):
    machine = _machine(workspace, template)
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=25,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )


def test_a_lost_answer_to_linking_a_model_does_not_fail_the_model(workspace, template):
    """The finding of the issue: log_outputs succeeded, its answer was lost, the retry got 400."""
    box = Outbox.create(workspace)
    client = FlakyClient(client_for(workspace))
    replayer = Replayer(workspace, box, client)
    box.append("k1", CreateRun(name="linked-once"))
    replayer.flush()
    staging = box.blob_dir / "k1" / "mk1"
    shutil.copytree(template, staging)
    box.append("k1", LogModel(path=str(staging / "model"), name="clf", model_key="mk1"))
    client.by_method["log_outputs"] = "after"
    first = replayer.flush()
    assert first.error and first.pending == 1 and first.failed == 0
    second = replayer.flush()
    assert second.sent == 1 and second.failed == 0, second
    assert box.failed() == []
    run = client_for(workspace).get_run(box.run_id("k1"))
    [output] = run.outputs.model_outputs
    model = client_for(workspace).get_logged_model(output.model_id)
    assert str(model.status).endswith("READY")


def test_a_refused_record_can_be_listed_retried_and_discarded(workspace):
    from jupyter_mlops.journal import sync

    box = Outbox.create(workspace)
    replayer = Replayer(workspace, box)
    box.append("k1", CreateRun(name="refused"))
    box.append("k1", LogData(params={"p": "1"}))
    replayer.flush()
    box.append("k1", LogData(params={"p": "2"}))  # MLflow refuses a changed param
    assert replayer.flush().failed == 1
    assert sync.outbox_counts(workspace).as_dict() == {
        "pending": 0,
        "failed": 1,
        "journals": 1,
        "unreadable": 0,
    }
    [record] = sync.failed_records(workspace)
    assert record["kind"] == "data" and "p" in record["error"]
    assert sync.retry_failed(workspace) == 1
    assert sync.outbox_counts(workspace).pending == 1
    assert replayer.flush().failed == 1  # still refused: back in failed_ops, not lost
    assert sync.discard_failed(workspace) == 1
    assert sync.outbox_counts(workspace).as_dict() == {
        "pending": 0,
        "failed": 0,
        "journals": 1,
        "unreadable": 0,
    }
    box.append("k1", EndRun("FINISHED"))
    replayer.flush()
    assert box.remove_if_drained()
    assert sync.outbox_counts(workspace).journals == 0


def test_errors_are_sorted_into_down_server_and_refused():
    import requests
    from mlflow.exceptions import MlflowException, RestException
    from mlflow.protos.databricks_pb2 import TEMPORARILY_UNAVAILABLE

    assert classify(ConnectionRefusedError()) == DOWN
    assert classify(sqlite3.OperationalError("database is locked")) == DOWN
    assert classify(MlflowException("x", error_code=TEMPORARILY_UNAVAILABLE)) == DOWN
    assert classify(MlflowException("API request to u failed with exception Conn")) == DOWN
    assert classify(RestException({"error_code": "BAD_REQUEST", "message": "dup"})) == REFUSED
    assert classify(RestException({"error_code": "INTERNAL_ERROR", "message": "?"})) == SERVER
    bad_gateway = requests.Response()
    bad_gateway.status_code = 502
    assert classify(requests.HTTPError(response=bad_gateway)) == DOWN
    refused = requests.Response()
    refused.status_code = 403
    assert classify(requests.HTTPError(response=refused)) == REFUSED
    assert classify(FileNotFoundError("gone")) == REFUSED
    assert classify(ValueError("bad record")) == REFUSED
    try:  # MLflow's wording for a logged model lookup that got no answer
        try:
            raise ConnectionError("Connection aborted.")
        except ConnectionError as lost:
            raise MlflowException.invalid_parameter_value("Failed to get logged model") from lost
    except MlflowException as wrapped:
        assert classify(wrapped) == DOWN
    try:
        try:
            raise ValueError("bad")
        except ValueError as bad:
            raise MlflowException.invalid_parameter_value("refused") from bad
    except MlflowException as refused_twice:
        assert classify(refused_twice) == REFUSED


@pytest.mark.slow
def test_eight_processes_opening_a_fresh_workspace_at_once_all_succeed(tmp_path):
    root = tmp_path / "fresh"
    root.mkdir()
    (root / "mlops.yaml").write_text("project: fresh\n")
    script = textwrap.dedent(
        f"""
        import os, sys, time
        os.environ.pop("MLFLOW_TRACKING_URI", None)
        from jupyter_mlops.workspace import Workspace
        from jupyter_mlops.store.client import client_for, experiment_id
        ws = Workspace.find({str(root)!r})
        import mlflow.store.tracking.sqlalchemy_store  # imports first: then arrive staggered
        time.sleep(float(sys.argv[1]) * 0.2)  # some arrive while another builds the schema
        client = client_for(ws)
        run = client.create_run(experiment_id(ws))
        client.log_param(run.info.run_id, "pid", str(os.getpid()))
        print(run.info.run_id)
        """
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(i)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=root,
        )
        for i in range(8)
    ]
    results = [p.communicate(timeout=180) + (p.returncode,) for p in procs]
    for _out, err, code in results:
        assert code == 0, err[-2000:]
    ws = Workspace.find(root)
    client = client_for(ws)
    from jupyter_mlops.store.client import experiment_id

    runs = client.search_runs([experiment_id(ws)])
    assert len(runs) == 8
    assert not list((root / ".mlops").glob(".mlflow.db.*"))


def test_sync_lists_refused_records_and_retries_or_discards_them(workspace):
    box = Outbox.create(workspace)
    replayer = Replayer(workspace, box)
    box.append("k1", CreateRun(name="cli"))
    box.append("k1", LogData(params={"p": "1"}))
    box.append("k1", EndRun("FINISHED"))
    replayer.flush()
    box.append("k1", LogData(params={"p": "2"}))  # refused: a param cannot change
    replayer.flush()
    box.close()
    box.lock.release()  # as if the process had ended: its journal is the CLI's now
    cli = str(Path(sys.executable).with_name("jupyter-mlops"))

    def sync(*flags: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [cli, "-C", str(workspace.root), "sync", *flags],
            capture_output=True,
            text=True,
            timeout=180,
        )

    listed = sync()
    assert listed.returncode == 7, listed.stderr
    assert "1 records refused by MLflow" in listed.stdout and "data" in listed.stdout
    retried = sync("--retry-failed")
    assert "1 refused records put back in line" in retried.stdout
    assert "1 records refused by MLflow" in retried.stdout  # refused again, and kept
    discarded = sync("--discard-failed")
    assert discarded.returncode == 0, discarded.stdout + discarded.stderr
    assert "1 refused records discarded" in discarded.stdout
    from jupyter_mlops.journal.sync import outbox_counts

    assert outbox_counts(workspace).journals == 0  # drained and removed by that sync
