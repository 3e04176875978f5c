"""The process's flusher (``journal/flusher.py``, in-process mode) on a real SQLite MLflow store.

A sink started in a process first lands the journals that dead processes left behind; what the
process journals then lands in the background, once; and a sink stopped while the tracking
server is down loses nothing: its journal stays on disk, unlocked, for the next process.
"""

from __future__ import annotations

import socket

from waiting import wait_until

from jupyter_mlops.journal.flusher import Sink
from jupyter_mlops.journal.outbox import Outbox
from jupyter_mlops.journal.replay import recover
from jupyter_mlops.store.client import client_for, forget_cached_clients
from jupyter_mlops.store.runs import RUN_KEY_TAG
from jupyter_mlops.workspace import Workspace


def _journal_a_run(box: Outbox, key: str, values: list[float], end: bool = True) -> None:
    box.append(key, "create", {"experiment": "flusher", "name": key})
    for step, value in enumerate(values):
        box.append(key, "data", {"metrics": [["m", value, 1_700_000_000_000 + step, step]]})
    if end:
        box.append(key, "end", {"status": "FINISHED", "end_time": 1_700_000_000_999})


def _landed(ws: Workspace, key: str) -> list:
    client = client_for(ws)
    exp = client.get_experiment_by_name("flusher")
    if exp is None:
        return []
    return client.search_runs([exp.experiment_id], filter_string=f"tags.`{RUN_KEY_TAG}` = '{key}'")


def _history(ws: Workspace, run) -> list[float]:
    return [h.value for h in client_for(ws).get_metric_history(run.info.run_id, "m")]


def test_a_new_sink_lands_dead_journals_then_its_own_records_once(workspace):
    dead = Outbox.create(workspace)
    _journal_a_run(dead, "dead-run", [1.0, 2.0], end=False)  # its process died mid-run
    dead.close()
    dead.lock.release()
    sink = Sink.start(workspace, in_process=True)
    try:
        wait_until(lambda: not dead.path.exists(), 60, message="the dead journal never drained")
        [orphan] = _landed(workspace, "dead-run")
        assert orphan.info.status == "FAILED" and _history(workspace, orphan) == [1.0, 2.0]
        _journal_a_run(sink.box, "live-run", [3.0, 4.0, 5.0])
        sink.kick()
        wait_until(lambda: sink.box.pending() == 0, 60, message="the sink never flushed")
        [run] = _landed(workspace, "live-run")
        assert _history(workspace, run) == [3.0, 4.0, 5.0] and run.info.status == "FINISHED"
    finally:
        sink.stop()
    assert not sink.box.path.exists(), "a drained journal is removed when its sink stops"
    assert len(_landed(workspace, "live-run")) == 1


def test_a_sink_stopped_while_the_server_is_down_keeps_everything_for_the_next(
    workspace, monkeypatch
):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        down = f"http://127.0.0.1:{sock.getsockname()[1]}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", down)
    forget_cached_clients()
    offline = Workspace.find(workspace.root)
    sink = Sink.start(offline, in_process=True)
    _journal_a_run(sink.box, "queued-run", [7.0, 8.0])
    sink.kick()
    sink.stop(timeout=5)
    assert sink.box.path.exists() and sink.box.lock.is_free()
    assert sink.box.pending() == 4
    sink.box.close()
    monkeypatch.delenv("MLFLOW_TRACKING_URI")  # the store answers again
    forget_cached_clients()
    back = Workspace.find(workspace.root)
    result = recover(back)
    assert (result.pending, result.failed) == (0, 0), result
    [run] = _landed(back, "queued-run")
    assert _history(back, run) == [7.0, 8.0] and run.info.status == "FINISHED"
    assert not sink.box.path.exists()
