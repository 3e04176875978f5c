"""The sync agent stays out of the way of a tracked cell that computes, and serves a wait at once.

A real agent process on a real SQLite store: while a cell computes it sends nothing, once the
cell ends everything lands; someone waiting for records is served even while a cell computes.
The replayer keeps large records (models, files) for later while asked to, in order.
"""

from __future__ import annotations

import os
import time

from waiting import wait_until

from jupyter_mlops.capture import tracker
from jupyter_mlops.journal import agent_control
from jupyter_mlops.journal.outbox import Outbox
from jupyter_mlops.journal.records import CreateRun, EndRun, LogData, LogModel
from jupyter_mlops.journal.replay import Replayer
from jupyter_mlops.store.client import client_for


def test_a_computing_cell_is_left_alone_and_a_wait_is_served(workspace):
    warm = tracker.RunRecorder(workspace, name="warm").start()
    warm.end()
    warm.wait_synced(timeout=120)  # the agent is up, MLflow imported: it could send at once
    pid = agent_control.read_status(workspace)["pid"]
    assert os.getpriority(os.PRIO_PROCESS, pid) >= 10, "the agent runs at low priority"

    run = tracker.RunRecorder(workspace, name="busy")
    box = run._sink.box
    run.computing(True)  # as a tracked cell does: the agent leaves the cores to it
    run.start()
    run.log_metrics({"m": 1.0})
    queued = box.pending()
    time.sleep(1.5)  # 75 of the agent's polls
    assert box.pending() == queued, "the agent sent records while the cell computed"
    run.computing(False)
    wait_until(lambda: box.pending() == 0, 60, message="the cell ended, nothing landed")

    assert agent_control.stop(workspace), "the agent did not stop"
    run.computing(True)
    run.log_metrics({"m": 2.0})
    began = time.monotonic()
    run_id = run.wait_synced(timeout=90)  # a wait (re)starts and wakes the agent, cell or not
    assert time.monotonic() - began < 60
    history = client_for(workspace).get_metric_history(run_id, "m")
    assert [h.value for h in history] == [1.0, 2.0]
    run.computing(False)
    run.end()


def test_large_records_wait_in_order_while_asked_to(workspace):
    from sklearn.linear_model import LogisticRegression

    from jupyter_mlops.store.logged_models import save_sklearn_model

    box = Outbox.create(workspace)
    try:
        staging = box.blob_dir / "k" / "mk"
        X = [[0.0, 1.0], [1.0, 0.0]] * 3
        save_sklearn_model(LogisticRegression().fit(X, [0, 1] * 3), staging / "model", X, [])
        box.append("k", CreateRun(experiment="held", name="held"))
        box.append("k", LogData(params={"p": "1"}))
        box.append("k", LogModel(path=str(staging / "model"), name="clf", model_key="mk"))
        box.append("k", EndRun("FINISHED"))
        replayer = Replayer(workspace, box)
        held = replayer.flush(hold_large=lambda: True)
        assert (held.sent, held.pending, held.deferred) == (2, 2, True), held
        assert [r[0] for r in box.conn.execute("SELECT kind FROM ops ORDER BY seq")] == [
            "model",
            "end",
        ]
        done = replayer.flush(hold_large=lambda: False)
        assert (done.sent, done.pending, done.deferred) == (2, 0, False), done
        run = client_for(workspace).get_run(box.run_id("k"))
        assert run.info.status == "FINISHED" and len(run.outputs.model_outputs) == 1
    finally:
        box.close()
        box.lock.release()
