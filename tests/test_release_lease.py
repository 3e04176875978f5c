"""The registry lease (compare-and-set on a registered-model tag) and the write-ahead audit entry,
on a real SQLite registry."""

from __future__ import annotations

import time

import pytest
from release_support import registered

from jupyter_mlops.errors import Conflict
from jupyter_mlops.release import history, rollout
from jupyter_mlops.release.aliases.change import PlannedChange, apply_plan
from jupyter_mlops.release.aliases.lease import Lease, LeaseLost, LeaseValue
from jupyter_mlops.store.client import client_for
from jupyter_mlops.store.gateway import gateway_for


def _cas(ws, **kw) -> Lease:
    """A lease taking the server path (no file lock): write, settle, re-read."""
    return Lease(gateway_for(ws), "churn", local_lock=False, settle=kw.pop("settle", 0.5), **kw)


def test_one_holder_at_a_time_and_the_counter_only_grows(workspace):
    registered(workspace, kinds=("good",))
    a, b = _cas(workspace), _cas(workspace)
    assert a.try_acquire() and a.held
    assert not b.try_acquire()  # a live lease is never overwritten
    a.fence()
    first = a.counter
    a.release()
    assert b.try_acquire() and b.counter == first + 1
    with pytest.raises(Conflict, match="held by"):
        _cas(workspace).acquire(timeout=0.3)
    b.release()
    assert _lease_value(workspace).holder is None


def _lease_value(ws) -> LeaseValue:
    return LeaseValue.parse(client_for(ws).get_registered_model("churn").tags.get("mlops.lease"))


def test_a_stale_lease_is_taken_over_and_its_old_holder_is_fenced_off(workspace):
    registered(workspace, kinds=("good",))
    a = _cas(workspace, ttl=1.0)
    assert a.try_acquire()
    b = _cas(workspace)
    assert not b.try_acquire()
    time.sleep(1.1)
    assert b.try_acquire()
    with pytest.raises(LeaseLost):
        a.fence()
    b.fence()  # the new holder is fine


def test_a_taken_over_holder_stops_before_its_next_write(workspace):
    registered(workspace, kinds=("good",))
    a = _cas(workspace)
    assert a.try_acquire()
    # a late write from a rival lands on top of ours (what the settle cannot rule out)
    client_for(workspace).set_registered_model_tag(
        "churn", "mlops.lease", LeaseValue("rival", a.counter + 1, time.time() + 30).dump()
    )
    with pytest.raises(LeaseLost, match="taken"):
        a.fence()


def test_an_attempt_slower_than_the_settle_never_claims_and_gives_back(workspace):
    registered(workspace, kinds=("good",))
    before = _lease_value(workspace).counter
    slow = _cas(workspace, settle=0.0)  # any round trip is "too slow"
    assert not slow.try_acquire()
    value = _lease_value(workspace)
    assert value.holder is None and value.counter == before + 1
    assert _cas(workspace).try_acquire()


def test_an_intent_left_midway_is_completed_by_the_next_action(workspace):
    registered(workspace, kinds=("good", "good", "good"))
    rollout.promote(gateway_for(workspace), "churn", 1, "champion")
    client = client_for(workspace)
    # a holder recorded "v2 becomes champion", moved `previous`, then died before `champion`
    plan = [["alias", "previous", "1"], ["alias", "champion", "2"]]
    rm = client.get_registered_model("churn")
    event = history.record(
        gateway_for(workspace),
        "churn",
        "promote",
        version="2",
        state="intent",
        plan=plan,
        after=history.newest_key(rm.tags),
        previous="1",
    )
    apply_plan(client, "churn", plan[:1], lambda: None)
    text = history.format_history(history.events(gateway_for(workspace), "churn"))
    assert "incomplete" in text
    st = rollout.promote(gateway_for(workspace), "churn", 3, "staging")
    assert st.aliases["champion"] == "2" and st.aliases["previous"] == "1"
    evts = history.events(gateway_for(workspace), "churn")
    done = next(e for e in evts if e.key == event.key)
    assert done.state == "done" and "completed_by" in done.details
    assert [(e.action, e.version) for e in evts[-2:]] == [("promote", "2"), ("promote", "3")]
    assert all(e.state == "done" for e in evts)


def test_the_guard_never_demotes_a_canary_other_than_the_judged_one(workspace):
    registered(workspace, kinds=("good", "good", "good"))
    rollout.promote(gateway_for(workspace), "churn", 1, "champion")
    rollout.promote(gateway_for(workspace), "churn", 3, "canary", weight=10)
    with pytest.raises(Conflict, match="now v3, not v2"):
        rollout.demote_canary(gateway_for(workspace), "churn", only_version="2")
    assert rollout.state(gateway_for(workspace), "churn").aliases["canary"] == "3"
    from jupyter_mlops.monitor.guard import roll_back_canary

    assert not roll_back_canary(gateway_for(workspace), "churn", "2", "judged v2")
    assert not roll_back_canary(
        gateway_for(workspace), "churn", "3", "judged against v2", champion="2"
    )
    assert roll_back_canary(gateway_for(workspace), "churn", "3", "judged v3")
    assert "canary" not in rollout.state(gateway_for(workspace), "churn").aliases


def test_a_refused_change_writes_nothing(workspace):
    registered(workspace, kinds=("good",))
    before = history.events(gateway_for(workspace), "churn")
    with pytest.raises(Conflict):
        rollout.promote(gateway_for(workspace), "churn", 1, "canary")  # no champion yet
    assert history.events(gateway_for(workspace), "churn") == before
    assert PlannedChange("x", None, []).plan == []


def test_an_intent_that_can_no_longer_be_completed_is_marked_and_blocks_nothing(workspace):
    registered(workspace, kinds=("good", "good", "good"))
    rollout.promote(gateway_for(workspace), "churn", 1, "champion")
    client = client_for(workspace)
    plan = [["alias", "champion", "3"]]
    rm = client.get_registered_model("churn")
    event = history.record(
        gateway_for(workspace),
        "churn",
        "promote",
        version="3",
        state="intent",
        plan=plan,
        after=history.newest_key(rm.tags),
    )
    client.delete_model_version("churn", "3")  # gone before anyone completed the change
    st = rollout.promote(gateway_for(workspace), "churn", 2, "staging")
    assert (st.aliases["champion"], st.aliases["staging"]) == ("1", "2")
    failed = next(e for e in history.events(gateway_for(workspace), "churn") if e.key == event.key)
    assert failed.state == "failed" and "could not be completed" in failed.line()


def test_one_guard_of_a_fleet_leads_and_a_stopped_leader_hands_over(workspace, monkeypatch):
    from jupyter_mlops.monitor.guard import CanaryGuard

    monkeypatch.setenv("MLOPS_LEASE_SETTLE", "0.5")
    registered(workspace, kinds=("good",))
    first, second = (
        CanaryGuard(gateway_for(workspace), "churn"),
        CanaryGuard(gateway_for(workspace), "churn"),
    )
    assert first.lead() and not second.lead()
    assert first.lead() and not second.lead()  # the leader renews; the other stands by
    first.stop()  # gives the lease back
    assert second.lead() and not first.lead()
