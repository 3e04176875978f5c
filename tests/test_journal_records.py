"""The journal's record format (``journal/records.py``): typed, versioned, and read back safely.

Every kind survives the trip to disk and back; a journal written before records carried a
version still lands; a record of an unknown kind or of a newer version, or one whose fields do
not match its kind, is set aside with one line saying why, and the records after it land.
"""

from __future__ import annotations

import json
import time
import typing

import pytest

from jupyter_mlops.journal import sync
from jupyter_mlops.journal.outbox import Outbox
from jupyter_mlops.journal.records import (
    AnnounceEvent,
    CreateRun,
    DatasetInput,
    EndRun,
    LogArtifact,
    LogData,
    LogInputs,
    LogModel,
    LogText,
    Record,
    RegisterDataset,
    UnreadableRecord,
    decode,
    encode,
)
from jupyter_mlops.journal.replay import Replayer
from jupyter_mlops.store.client import client_for
from jupyter_mlops.tags import RUN_KEY_TAG

EXAMPLES: list[Record] = [
    CreateRun(experiment="e", name="n", start_time=1, tags={"a": "b"}, parent_key="p"),
    LogData(metrics=[("m", 0.5, 2, 3)], params={"p": "1"}, tags={"t": "v"}, tag_keys={"u": "k"}),
    LogText("print(1)\n", "mlops/cell.py"),
    LogArtifact("/staged/f.txt", "notebook"),
    LogInputs([DatasetInput("d", "abc", context="training", dataset_key="dataset-1")], "r1"),
    RegisterDataset("d", "abc", "tok", {"x": "1"}, "{}", "{}", {"file": "a.csv"}, "/s", "h"),
    LogModel("/staged/model", "clf", "mk", estimator="/staged/e.pkl", requirements=["numpy==2"]),
    EndRun("FINISHED", end_time=5),
    AnnounceEvent("id1", "alias_moved", "p", 1.5, model="m", data={"alias": "x"}, actor="a"),
]


@pytest.fixture
def box(workspace):
    journal = Outbox.create(workspace)
    yield journal
    journal.close()
    journal.lock.release()


def test_every_kind_is_in_the_record_union_and_survives_the_trip_to_disk_and_back():
    assert {type(r) for r in EXAMPLES} == set(typing.get_args(Record))
    assert len({r.KIND for r in EXAMPLES}) == len(EXAMPLES)
    for record in EXAMPLES:
        payload = encode(record)
        assert json.loads(payload)["v"] == record.VERSION
        assert decode(record.KIND, payload) == record
    assert json.loads(encode(LogData(params={"p": "1"}))) == {"v": 1, "params": {"p": "1"}}


@pytest.mark.parametrize(
    ("kind", "payload", "says"),
    [
        ("telepathy", '{"v": 1}', "unknown kind 'telepathy'"),
        ("end", '{"v": 99, "status": "FINISHED"}', "format version 99"),
        ("end", '{"v": 0, "status": "FINISHED"}', "no valid format version"),
        ("end", '{"status": "FINISHED", "colour": "red"}', "unknown field(s) 'colour'"),
        ("end", '{"end_time": 3}', "field 'status' is missing"),
        ("data", '{"metrics": [["m", "high", 1, 0]]}', "metrics: expected float"),
        ("data", '{"params": {"p": 1}}', "params: expected str"),
        ("text", "[1, 2]", "not a JSON object"),
        ("text", "{", "not JSON"),
    ],
)
def test_a_record_this_version_cannot_read_is_refused_in_one_line(kind, payload, says):
    with pytest.raises(UnreadableRecord) as caught:
        decode(kind, payload)
    assert says in str(caught.value) and "\n" not in str(caught.value)


def _insert(box: Outbox, run_key: str, kind: str, payload: dict) -> None:
    """A row exactly as an earlier jupyter-mlops wrote it (or a later one, or a stranger)."""
    box.conn.execute(
        "INSERT INTO ops (run_key, kind, payload, created) VALUES (?, ?, ?, ?)",
        (run_key, kind, json.dumps(payload), time.time()),
    )
    if kind == "create":
        box.conn.execute(
            "INSERT OR IGNORE INTO runs (run_key, open, last_seen) VALUES (?, 1, ?)",
            (run_key, time.time()),
        )
    elif kind == "end":
        box.conn.execute("UPDATE runs SET open = 0 WHERE run_key = ?", (run_key,))


def test_a_journal_written_before_records_had_versions_still_lands(workspace, box):
    """The previous version wrote no "v" and metrics as JSON lists: read as version 1."""
    _insert(box, "old", "create", {"experiment": "old", "name": "from-before", "tags": {"a": "b"}})
    _insert(box, "old", "data", {"params": {"p": "1"}, "metrics": [["m", 0.25, 1700, 0]]})
    _insert(box, "old", "text", {"text": "x = 1\n", "artifact_file": "mlops/cell.py"})
    _insert(box, "old", "end", {"status": "FINISHED", "end_time": 1_700_000_000_000})
    result = Replayer(workspace, box).flush()
    assert (result.sent, result.failed, result.pending) == (4, 0, 0), result
    client = client_for(workspace)
    run = client.get_run(box.run_id("old"))
    assert run.info.run_name == "from-before" and run.info.status == "FINISHED"
    assert run.data.params == {"p": "1"} and run.data.metrics == {"m": 0.25}
    assert run.data.tags["a"] == "b" and run.data.tags[RUN_KEY_TAG] == "old"
    assert [a.path for a in client.list_artifacts(run.info.run_id, "mlops")] == ["mlops/cell.py"]


def test_an_unreadable_record_is_set_aside_and_the_ones_after_it_land(workspace, box):
    box.append("k", CreateRun(experiment="mixed", name="mixed"))
    box.append("k", LogData(params={"before": "1"}))
    _insert(box, "k", "data", {"v": 99, "params": {"future": "1"}})  # a newer jupyter-mlops
    _insert(box, "k", "telepathy", {"v": 1})  # a kind this version does not know
    box.append("k", LogData(params={"after": "1"}))
    box.append("k", EndRun("FINISHED"))
    result = Replayer(workspace, box).flush()
    assert (result.sent, result.failed, result.pending) == (4, 2, 0), result
    run = client_for(workspace).get_run(box.run_id("k"))
    assert run.data.params == {"before": "1", "after": "1"} and run.info.status == "FINISHED"
    refused = sync.failed_records(workspace)
    assert [r["kind"] for r in refused] == ["data", "telepathy"]
    assert "format version 99; this jupyter-mlops reads up to version 1" in refused[0]["error"]
    assert "unknown kind 'telepathy'" in refused[1]["error"]
    assert sync.outbox_counts(workspace).failed == 2
