"""The journal's exactly-once promise when the replaying process dies, at any MLflow call.

A process journals any sequence of records (runs created, metrics, params, tags, files, a
model, runs ended) and replays them into a real SQLite MLflow store. It dies at one call of its
choosing, before the call reached the store or after the store did the work but before the
answer came back (a ``BaseException``: nothing in the replayer catches it, as nothing survives a
kill -9). Another process takes the journal over, and may die too; then ``recover`` lands the
rest, as the sync agent does for a dead process. Whatever the records and the crash points:
every run is in MLflow once, with each metric point once, its params, tags and files, and a
model logged once; runs left open are FAILED; and replaying again changes nothing.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_replay_faults import _staged_model_template

from jupyter_mlops.journal.outbox import Outbox
from jupyter_mlops.journal.records import CreateRun, EndRun, LogArtifact, LogData, LogModel
from jupyter_mlops.journal.recovery import recover
from jupyter_mlops.journal.replay import Replayer
from jupyter_mlops.locks import FileLock
from jupyter_mlops.store.client import client_for
from jupyter_mlops.store.runs import RUN_KEY_TAG


class Crash(BaseException):
    """The replaying process dies here."""


class CrashingClient:
    """MlflowClient that dies at call number ``at``: ``before`` it reaches the store, or after
    the store did the work."""

    def __init__(self, client: Any, at: int, before: bool) -> None:
        self._client, self.at, self.before, self.calls = client, at, before, 0

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._client, name)
        if not callable(target):
            return target

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            if self.calls == self.at and self.before:
                raise Crash(name)
            result = target(*args, **kwargs)
            if self.calls == self.at:
                raise Crash(name)
            return result

        return call


ACTIONS = ("metric", "param", "tag", "file", "model", "end")
records = st.lists(st.tuples(st.integers(0, 2), st.sampled_from(ACTIONS)), max_size=14)
crash_points = st.lists(st.tuples(st.integers(1, 25), st.booleans()), min_size=1, max_size=3)


class Journal:
    """What one process journaled, and what MLflow must hold once it all landed."""

    def __init__(self, ws, template: Path) -> None:
        self.ws, self.template = ws, template
        self.experiment = f"crash-{uuid.uuid4().hex[:8]}"
        self.box = Outbox.create(ws)
        self.keys: list[str] = []
        self.metrics: dict[str, list[float]] = {}
        self.params: dict[str, dict[str, str]] = {}
        self.tags: dict[str, dict[str, str]] = {}
        self.files: dict[str, list[str]] = {}
        self.models: dict[str, list[str]] = {}
        self.ended: set[str] = set()
        self.clock = 1_700_000_000_000

    def write(self, actions: list[tuple[int, str]]) -> None:
        for run, action in actions:
            while len(self.keys) <= run:
                self._create()
            key = self.keys[run]
            if key not in self.ended:
                getattr(self, f"_{action}")(key)

    def _create(self) -> None:
        key = uuid.uuid4().hex
        self.box.append(key, CreateRun(experiment=self.experiment, name=key[:6]))
        self.keys.append(key)
        self.metrics[key], self.params[key], self.tags[key] = [], {}, {}
        self.files[key], self.models[key] = [], []

    def _metric(self, key: str) -> None:
        self.clock += 1
        value = float(len(self.metrics[key]))
        step = len(self.metrics[key])
        self.box.append(key, LogData(metrics=[("m", value, self.clock, step)]))
        self.metrics[key].append(value)

    def _param(self, key: str) -> None:
        name = f"p{len(self.params[key])}"
        self.box.append(key, LogData(params={name: "v"}))
        self.params[key][name] = "v"

    def _tag(self, key: str) -> None:
        name = f"t{len(self.tags[key])}"
        self.box.append(key, LogData(tags={name: key[:4]}))
        self.tags[key][name] = key[:4]

    def _file(self, key: str) -> None:
        name = f"f{len(self.files[key])}.txt"
        source = self.box.path.parent / f"src-{uuid.uuid4().hex[:6]}.txt"
        source.write_text(name)
        staged = self.box.stage_blob(key, source, name)
        source.unlink()
        self.box.append(key, LogArtifact(str(staged)))
        self.files[key].append(name)

    def _model(self, key: str) -> None:
        if any(self.models.values()):
            return  # one model per journal: an upload costs a second or so
        model_key = uuid.uuid4().hex
        staging = self.box.blob_dir / key / model_key
        shutil.copytree(self.template, staging)
        payload = LogModel(path=str(staging / "model"), name="clf", model_key=model_key)
        self.box.append(key, payload)
        self.models[key].append(model_key)

    def _end(self, key: str) -> None:
        self.box.append(key, EndRun("FINISHED", end_time=self.clock))
        self.ended.add(key)

    def replay_until_a_crash(self, at: int, before: bool) -> None:
        """This journal's owner replays it and dies at call ``at`` (or finishes first)."""
        client = CrashingClient(client_for(self.ws), at, before)
        try:
            Replayer(self.ws, self.box, client).flush()
        except Crash:
            pass
        self._die()

    def take_over(self) -> None:
        """Another process takes the dead one's journal (as recover and the agent do)."""
        lock = FileLock(self.box.path.with_suffix(".lock"))
        assert lock.acquire(blocking=False), "the dead process's lock is free"
        self.box = Outbox(self.box.path, lock)

    def _die(self) -> None:
        """What the kernel does for a dead process: its connection and its lock go."""
        self.box.close()
        self.box.lock.release()

    def check_landed_once(self) -> None:
        client = client_for(self.ws)
        exp = client.get_experiment_by_name(self.experiment)
        assert exp is not None or not self.keys
        for key in self.keys:
            found = client.search_runs(
                [exp.experiment_id], filter_string=f"tags.`{RUN_KEY_TAG}` = '{key}'"
            )
            assert len(found) == 1, f"run {key[:6]} landed {len(found)} times"
            run = found[0]
            history = client.get_metric_history(run.info.run_id, "m")
            assert sorted(h.value for h in history) == self.metrics[key]
            assert run.data.params == self.params[key]
            assert self.tags[key].items() <= run.data.tags.items()
            expected_status = "FINISHED" if key in self.ended else "FAILED"
            assert run.info.status == expected_status, (key[:6], run.info.status)
            files = sorted(a.path for a in client.list_artifacts(run.info.run_id))
            assert files == sorted(self.files[key])
            linked = [o.model_id for o in run.outputs.model_outputs]
            assert len(linked) == len(self.models[key])
            for model_key in self.models[key]:
                models = client.search_logged_models(
                    experiment_ids=[exp.experiment_id],
                    filter_string=f"tags.`mlops.model_key` = '{model_key}'",
                )
                assert len(models) == 1, f"model {model_key[:6]} created {len(models)} times"
                assert models[0].model_id in linked

    def store_snapshot(self) -> list[tuple]:
        """Everything MLflow holds for this journal's experiment, to compare before and after."""
        client = client_for(self.ws)
        exp = client.get_experiment_by_name(self.experiment)
        if exp is None:
            return []
        runs = client.search_runs([exp.experiment_id], max_results=1000)
        return sorted(
            (
                r.info.run_id,
                r.info.status,
                r.info.end_time,
                tuple(sorted(r.data.params.items())),
                tuple(sorted(r.data.tags.items())),
                tuple(
                    (h.step, h.timestamp, h.value)
                    for h in client.get_metric_history(r.info.run_id, "m")
                ),
                len(r.outputs.model_outputs),
            )
            for r in runs
        )


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _staged_model_template(tmp_path_factory.mktemp("template"))


@settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(actions=records, crashes=crash_points)
def test_a_replay_killed_anywhere_and_replayed_again_lands_each_record_once(
    workspace, template, actions, crashes
):
    journal = Journal(workspace, template)
    journal.write(actions)
    for i, (at, before) in enumerate(crashes):
        if i:
            journal.take_over()
        journal.replay_until_a_crash(at, before)
    recover(workspace)  # the dead journal lands; runs it left open end FAILED
    journal.check_landed_once()
    assert not list(journal.box.path.parent.glob(f"{journal.box.path.stem}.*")), (
        "a drained journal is removed with its staged files"
    )
    landed = journal.store_snapshot()
    again = recover(workspace)
    assert (again.sent, again.pending, again.failed) == (0, 0, 0)
    assert journal.store_snapshot() == landed


@settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(actions=records)
def test_replaying_a_drained_journal_again_is_a_no_op(workspace, template, actions):
    journal = Journal(workspace, template)
    journal.write(actions)
    replayer = Replayer(workspace, journal.box)
    first = replayer.flush()
    assert (first.pending, first.failed) == (0, 0)
    landed = journal.store_snapshot()
    second = replayer.flush()
    assert (second.sent, second.pending, second.failed) == (0, 0, 0)
    assert journal.store_snapshot() == landed
    journal._die()
