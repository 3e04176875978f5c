"""The journal itself (``journal/outbox.py``): what it keeps, in which order, and when it goes.

No MLflow here: these are the journal's own promises that the replayer builds on. A cell's
records commit together or not at all; appends from many threads all land, each thread's in its
order; refused records can go back in line at their old place, or be dropped with their steps;
a multi-step op's recorded steps survive the process; and a journal is removed only when
nothing in it is left to send.
"""

from __future__ import annotations

import json
import math
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jupyter_mlops.journal.outbox import Outbox
from jupyter_mlops.locks import FileLock


@pytest.fixture
def box(workspace):
    journal = Outbox.create(workspace)
    yield journal
    journal.close()
    journal.lock.release()


def _ops(box: Outbox) -> list[tuple]:
    return box.conn.execute("SELECT seq, run_key, kind, payload FROM ops ORDER BY seq").fetchall()


def test_a_cells_records_commit_together_or_not_at_all(box):
    box.append("k", "create", {"name": "r"})
    with pytest.raises(ValueError), box.batch():
        box.append("k", "data", {"metrics": [["m", 1.0, 1, 0]]})
        box.append("k", "data", {"metrics": [["m", math.nan, 2, 1]]})  # not JSON: refused
    assert [op[2] for op in _ops(box)] == ["create"]
    box.append("k", "end", {"status": "FINISHED"})
    assert [op[2] for op in _ops(box)] == ["create", "end"]


@settings(
    max_examples=15,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.lists(st.integers(0, 40), min_size=1, max_size=6))
def test_appends_from_many_threads_all_land_each_thread_in_order(workspace, counts):
    journal = Outbox.create(workspace)
    try:

        def cell(thread: int, n: int) -> None:
            for i in range(n):
                journal.append(f"t{thread}", "data", {"metrics": [["m", float(i), i, i]]})

        threads = [threading.Thread(target=cell, args=(t, n)) for t, n in enumerate(counts)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        rows = _ops(journal)
        assert journal.pending() == len(rows) == sum(counts)
        for thread, n in enumerate(counts):
            steps = [json.loads(r[3])["metrics"][0][3] for r in rows if r[1] == f"t{thread}"]
            assert steps == list(range(n))
    finally:
        journal.close()
        journal.lock.release()


def test_refused_records_go_back_at_their_old_place_or_are_dropped_with_their_steps(box):
    for i in range(4):
        box.append("k", "data", {"params": {f"p{i}": "v"}})
    rows = box.conn.execute(
        "SELECT seq, run_key, kind, payload, attempts FROM ops ORDER BY seq"
    ).fetchall()
    box.record_step(rows[1][0], "uploaded", "x")
    box.move_to_failed([rows[1]], "refused: bad param")
    assert [r[0] for r in _ops(box)] == [rows[0][0], rows[2][0], rows[3][0]]
    assert [f["error"] for f in box.failed()] == ["refused: bad param"]
    assert box.retry_failed() == 1
    assert [r[0] for r in _ops(box)] == [r[0] for r in rows]  # back at its old place
    assert box.steps(rows[1][0]) == {"uploaded": "x"}  # a retry resumes after its last step
    assert box.conn.execute("SELECT attempts FROM ops WHERE seq = ?", (rows[1][0],)).fetchone() == (
        1,
    )  # checked against the server before it is sent again
    box.move_to_failed([rows[1]], "refused again")
    assert box.discard_failed() == 1
    assert box.failed() == [] and box.steps(rows[1][0]) == {}
    assert box.pending() == 3


def test_recorded_steps_and_run_ids_survive_the_process(box):
    box.append("k", "create", {"name": "r"})
    box.conn.execute("UPDATE runs SET run_id = 'abc' WHERE run_key = 'k'")
    box.record_step(1, "created", "m-1")
    box.close()
    box.lock.release()  # the process died
    lock = FileLock(box.path.with_suffix(".lock"))
    assert lock.acquire(blocking=False)
    again = Outbox(box.path, lock)
    assert again.run_id("k") == "abc" and again.steps(1) == {"created": "m-1"}
    assert again.pending() == 1
    box.lock = lock  # the fixture releases the new holder's lock


def test_a_journal_is_removed_only_when_nothing_is_left_to_send(box, tmp_path):
    source = tmp_path / "f.txt"
    source.write_text("x")
    staged = box.stage_blob("k", source, "f.txt")
    box.append("k", "create", {"name": "r"})
    rows = box.conn.execute("SELECT seq, run_key, kind, payload, attempts FROM ops").fetchall()
    assert not box.remove_if_drained()  # an op to send
    box.delete_ops([rows[0][0]])
    assert not box.remove_if_drained()  # the run is still open
    box.append("k", "end", {"status": "FINISHED"})
    box.move_to_failed(
        box.conn.execute("SELECT seq, run_key, kind, payload, attempts FROM ops").fetchall(), "no"
    )
    assert not box.remove_if_drained()  # a refused record waits for a decision
    box.discard_failed()
    assert staged.exists()
    assert box.remove_if_drained()
    left = list(box.path.parent.glob(f"{box.path.stem}*"))
    assert left == [] and not staged.exists()
    assert box.lock.is_free()
