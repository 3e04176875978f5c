"""Whole cycles with real processes: the router (`jupyter-mlops serve`), the loop (`jupyter-mlops
loop serve`), real kernels for the build, and the approval given through the REST API of a real
Jupyter server. Then a cycle that a failed gate stops."""

from __future__ import annotations

import time

import pytest
from loop_support import (
    drifted_rows,
    first_champion,
    labelled,
    process,
    wait_serving,
    write_project,
)
from ports import free_port
from server_support import api, jp_root_dir, jp_server_config
from waiting import wait_until

from jupyter_mlops.demo.traffic import send_rows, send_traffic
from jupyter_mlops.loop.cycle import CycleBook
from jupyter_mlops.loop.service import run_by_hand
from jupyter_mlops.release import history
from jupyter_mlops.release.rollout import state
from jupyter_mlops.store.gateway import gateway_for

__all__ = ["jp_root_dir", "jp_server_config"]
pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def kernels_import_the_package(monkeypatch):
    from loop_support import REPO

    monkeypatch.setenv("PYTHONPATH", str(REPO))


async def test_drift_to_champion_through_real_processes(jp_fetch, workspace, tmp_path, monkeypatch):
    ws = workspace
    write_project(ws.root)
    monkeypatch.setenv("MLOPS_ACTOR", "ops")
    first = first_champion(ws)
    book = CycleBook(gateway_for(ws), "churn")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    serve = ["serve", "churn", "--port", str(port), "--poll", "0.2"]
    with (
        process(serve, ws.root, tmp_path / "router.log"),
        process(["loop", "serve"], ws.root, tmp_path / "loop.log", MLOPS_ACTOR="loop-bot"),
    ):
        wait_serving(url)
        # new labelled data lands, and live traffic drifts the same way: the alert fires
        labelled(200, seed=5, age_shift=25.0).to_csv(ws.root / "data" / "new.csv", index=False)
        rows = drifted_rows()
        started, seen = send_traffic(
            url, rows, until=lambda: book.active() is not None, seconds=90, pause=0.01
        )
        log = (tmp_path / "loop.log").read_text
        assert started, f"no cycle started; loop log:\n{log()}"
        cycle = book.active()
        assert cycle.trigger == "drift" and "input drift" in cycle.reason, cycle.reason

        # the retrained version goes in as a canary, is watched on live traffic, then waits
        def waiting_for_approval():
            c = book.get(cycle.run_id)
            assert c.outcome not in ("stopped", "failed"), f"{c.summary()}\n{log()}"
            return c.outcome == "waiting" and c.current == "champion"

        held, seen = send_traffic(
            url, rows[:40], until=waiting_for_approval, seconds=240, pause=0.01
        )
        assert held, f"the cycle never asked for an approval:\n{log()}"
        new = book.get(cycle.run_id).version
        assert new != first and seen[(200, new)] > 0  # the canary served
        assert state(gateway_for(ws), "churn").aliases["canary"] == new

        code, loop = await api(jp_fetch, "loop")
        assert code == 200 and loop["leader"] and loop["active"]["run_id"] == cycle.run_id
        pending = loop["pending"][0]
        assert (pending["version"], pending["alias"], pending["requested_by"]) == (
            new,
            "champion",
            "loop-bot",
        )
        assert pending["gate_results"] and pending["champion"]["version"] == first

        monkeypatch.setenv("MLOPS_ACTOR", "alice")  # who the Jupyter server acts as
        code, approved = await api(
            jp_fetch,
            *("models", "churn", "versions", new, "approvals", "champion"),
            method="PUT",
            payload={"decision": "approve", "comment": "retrained on the new ages"},
        )
        assert code == 200 and approved["decided_by"] == "alice", approved

        def finished():
            c = book.get(cycle.run_id)
            return None if c.active else c

        done = wait_until(
            finished,
            timeout=60,
            interval=0.5,
            message=lambda: f"the cycle did not finish:\n{log()}",
        )
        assert done.outcome == "promoted", f"{done.summary()}\n{log()}"
        wait_until(
            lambda: set(send_rows(url, rows[:10])) == {(200, new)},
            timeout=30,
            interval=0.3,
            message="the router never served the new champion alone",
        )

    stages = {s.stage: s.status for s in done.stages}
    assert stages == dict.fromkeys(
        ("build", "register", "validate", "staging", "canary", "watch", "champion"), "done"
    )
    trail = [(e.action, e.actor, e.version) for e in history.events(gateway_for(ws), "churn")]
    assert ("register", "loop-bot", new) in trail and ("approve", "alice", new) in trail
    assert trail[-1] == ("promote", "loop-bot", new)
    assert "loop cycle" in history.events(gateway_for(ws), "churn")[-1].reason


def test_a_failed_gate_stops_the_cycle(workspace, monkeypatch):
    ws = workspace
    write_project(ws.root, min_accuracy=0.99)  # no model of this problem reaches it
    lines: list[str] = []
    cycle = run_by_hand(
        gateway_for(ws), say=lambda t: lines.append(f"{time.time():.1f} {t}"), timeout=120
    )

    assert cycle.outcome == "stopped" and not cycle.active, cycle.summary()
    assert [s.stage for s in cycle.stages] == ["build", "register", "validate"]
    gate = cycle.stages[-1]
    assert gate.status == "stopped" and gate.note.startswith("gates failed: metrics.accuracy")
    assert "0.99" in gate.note
    assert not {"staging", "canary", "champion"} & set(state(gateway_for(ws), "churn").aliases)
    run = gateway_for(ws).client.get_run(cycle.run_id)
    assert run.info.status == "FAILED" and run.data.tags["mlops.cycle.outcome"] == "stopped"
    assert any("gates failed" in line for line in lines)
    print("\n".join(lines))
