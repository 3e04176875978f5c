"""The loop process: one leader per model (the registry lease), firings coalesced into the
cycle under way, firings asked of the leader by hand, and a cycle that fails saying why."""

from __future__ import annotations

import pytest

from jupyter_mlops.cli import main
from jupyter_mlops.loop.cycle import CycleBook
from jupyter_mlops.loop.service import LoopService, manual_firing, run_by_hand
from jupyter_mlops.store.gateway import gateway_for

PROJECT = """\
project: leaders
release: {model: churn}
loop:
  poll: 1s
  triggers:
    fresh: {watch: [data/]}
"""


@pytest.fixture
def loops(workspace, monkeypatch):
    monkeypatch.setenv("MLOPS_LEASE_SETTLE", "0.2")
    (workspace.root / "mlops.yaml").write_text(PROJECT)
    gw = gateway_for(workspace)
    said: list[str] = []
    a = LoopService(gw, say=said.append, actor="loop-a")
    b = LoopService(gw, say=said.append, actor="loop-b")
    yield a, b, said
    a.release()
    b.release()


def test_one_leader_and_every_firing_joins_the_cycle_under_way(loops, workspace, capsys):
    a, b, said = loops
    assert a.lead() and not b.lead()
    assert a.lead()  # renewed, still the leader
    book = CycleBook(gateway_for(workspace), "churn")

    first = a.take([manual_firing(a.spec, None, "alice")])
    again = a.take([manual_firing(a.spec, "fresh", "bob")])
    assert again.run_id == first.run_id and book.active().run_id == first.run_id
    assert [c["trigger"] for c in book.get(first.run_id).coalesced] == ["fresh"]

    # the other process, asked by hand, hands the cycle to the leader instead of running one
    cycle = run_by_hand(gateway_for(workspace), trigger="fresh", say=said.append, timeout=2)
    assert cycle.run_id == first.run_id
    assert any("the loop led by loop-a" in line for line in said)

    # the leader's round takes that request into the same cycle, which then fails, saying why
    ended = a.round()
    assert ended.run_id == first.run_id and ended.outcome == "failed"
    note = ended.stages[-1].note
    assert note.startswith("build: ") and "mlops.yaml: steps: mlops.yaml declares no steps" in note
    assert [c["reason"] for c in ended.coalesced] == ["by hand (bob)", "by hand (root)"]
    assert len(book.recent()) == 1  # never a second cycle

    a.release()  # a standby takes over at once
    assert b.lead()
    capsys.readouterr()
    assert main(["loop", "status"]) == 0
    out = capsys.readouterr().out
    assert "led by loop-b@" in out and "fresh          watch     files data/" in out
    assert "): failed at build: " in out and "build:failed" in out


def test_a_waiting_cycle_is_resumed_by_the_next_leader(loops, workspace, monkeypatch):
    """The loop that asked for an approval is gone; the one leading now finds the cycle where
    the registry says it stopped and finishes it once the approval is given."""
    from release_support import registered

    from jupyter_mlops.loop.cycle import CyclePlan, StageRecord
    from jupyter_mlops.loop.firing import Firing
    from jupyter_mlops.release.approvals import decide, request_approval
    from jupyter_mlops.release.rollout import promote, state

    a, b, said = loops
    (workspace.root / "mlops.yaml").write_text(
        PROJECT.replace(
            "release: {model: churn}",
            "release: {model: churn, approvals: {champion: {approvers: [alice]}}}",
        )
    )
    registered(workspace, "churn", ("good", "good"))  # v1 and v2, gates passed
    decide(gateway_for(workspace), "churn", 1, "approve", actor="alice")
    promote(gateway_for(workspace), "churn", 1, "champion")
    assert a.lead()
    book = CycleBook(gateway_for(workspace), "churn")
    cycle = book.start(Firing("fresh", "watch", "data/ changed", 0.0), CyclePlan(), "loop-a")
    for name in ("build", "register", "validate", "staging", "canary", "watch"):
        cycle.stages.append(StageRecord(name, "done" if name != "canary" else "skipped", 1.0, 2.0))
    cycle.stages.append(StageRecord("champion", "waiting", 2.0, None, "waiting for an approval"))
    cycle.version, cycle.outcome = "2", "waiting"
    book.save(cycle)
    request_approval(gateway_for(workspace), "churn", 2, cycle=cycle.run_id)
    a.release()  # the first loop process stops

    assert b.lead()
    assert b.round().outcome == "waiting"  # nothing decided yet: it keeps waiting
    decide(gateway_for(workspace), "churn", 2, "approve", actor="alice", comment="fine")
    done = b.round()
    assert done.run_id == cycle.run_id and done.outcome == "promoted", done.summary()
    assert state(gateway_for(workspace), "churn").aliases["champion"] == "2"
    assert len(book.recent()) == 1
