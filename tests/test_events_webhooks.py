"""Events out: journaled by ``emit``, delivered by the real sync agent to real HTTP receivers.

Each test starts local receivers, declares them in mlops.yaml and emits; the agent process (a
subprocess, as in production) hands the events over and delivers them.
"""

from __future__ import annotations

import collections
import json

import pytest
from waiting import wait_until
from webhook_support import Receiver, signature_ok, write_webhooks

from jupyter_mlops.journal import agent_control
from jupyter_mlops.journal.deliveries import read_queue
from jupyter_mlops.journal.events import ALIAS_MOVED, DRIFT_ALERT, emit
from jupyter_mlops.store.gateway import gateway_for

SECRET = "s3cr3t-for-tests"


@pytest.fixture
def receivers(workspace):
    """Receivers to start; at the end they close and the workspace's agent stops (it would
    stay up for deliveries still waiting)."""
    opened: list[Receiver] = []

    def make(**kwargs) -> Receiver:
        opened.append(Receiver(**kwargs))
        return opened[-1]

    yield make
    agent_control.stop(workspace)
    for r in opened:
        r.close()


@pytest.fixture
def signed(monkeypatch):
    """The signing key, in the environment the agent inherits."""
    monkeypatch.setenv("TEST_WEBHOOK_SECRET", SECRET)
    return "TEST_WEBHOOK_SECRET"


def _emit_moves(ws, n: int) -> list[tuple[str, str]]:
    """``n`` alias moves alternating between two models; (model, event id) in emission order."""
    sent = []
    for i in range(n):
        model = ("churn", "fraud")[i % 2]
        payload = {"alias": "champion", "version": str(i + 1), "previous_version": str(i)}
        event = emit(ws, ALIAS_MOVED, model=model, payload=payload, actor="alice")
        assert event is not None
        sent.append((model, event))
    return sent


def test_a_receiver_failing_its_first_two_deliveries_gets_every_event_once_signed_in_order(
    workspace, receivers, signed
):
    flaky = receivers(fail_first=2)
    write_webhooks(workspace.root, [{"name": "flaky", "url": flaky.url, "secret_env": signed}])
    sent = _emit_moves(workspace, 6)

    got = flaky.wait_for(len(sent))
    assert sum(r.status == 500 for r in flaky.requests) == 2  # it did fail twice first
    ids = [r.event_id for r in got]
    assert collections.Counter(ids) == collections.Counter(e for _, e in sent)  # each once
    assert all(signature_ok(SECRET, r) for r in flaky.requests)
    for model in ("churn", "fraud"):  # in order per model
        assert [r.event_id for r in got if r.json["model"] == model] == [
            e for m, e in sent if m == model
        ]
    first = got[0].json
    assert first["kind"] == "alias_moved" and first["data"]["alias"] == "champion"
    assert first["id"] == got[0].event_id and first["project"] == workspace.name
    assert got[0].headers["x-mlops-event"] == "alias_moved"
    # the retried event carried the same id in its failed attempts: the idempotency key
    assert {r.event_id for r in flaky.requests if r.status == 500} == {sent[0][1]}

    queue = read_queue(workspace)
    assert queue is not None
    # the receiver saw the last request before the agent recorded its answer: wait for that
    done = {"pending": 0, "delivered": 6, "failed": 0}
    wait_until(lambda: queue.counts() == done, 30, message="deliveries not recorded")
    [retried] = [d for d in queue.recent(10) if d.event.id == sent[0][1]]
    assert retried.attempts == 3 and retried.status == 200


def test_a_hanging_receiver_holds_neither_the_others_nor_the_journal(workspace, receivers, signed):
    import jupyter_mlops

    stuck, fine = receivers(hang=True), receivers()
    write_webhooks(
        workspace.root,
        [
            {"name": "stuck", "url": stuck.url, "secret_env": signed, "timeout": "20s"},
            {"name": "fine", "url": fine.url, "secret_env": signed},
        ],
    )
    sent = _emit_moves(workspace, 3)
    got = fine.wait_for(3, timeout=15)  # well before the stuck one's first attempt times out
    assert [r.event_id for r in got] == [e for _, e in sent]
    with jupyter_mlops.track(name="while-stuck", workspace=workspace) as run:
        jupyter_mlops.log_metrics({"accuracy": 0.91})
    run_id = run.wait_run_id(timeout=15)  # the MLflow replay goes on
    finished = fine.wait_for(4, timeout=15)[3].json  # announced once the run's end landed
    assert finished["kind"] == "run_finished" and finished["model"] is None
    data = finished["data"]
    assert (data["run_id"], data["name"], data["status"]) == (run_id, "while-stuck", "FINISHED")
    assert data["metrics"] == {"accuracy": 0.91}
    queue = read_queue(workspace)
    assert queue is not None
    stuck_state = [d.state for d in queue.recent(20) if d.receiver == "stuck"]
    assert stuck_state == ["pending"] * 4


def test_the_slack_form_is_one_readable_line(workspace, receivers):
    slack = receivers()
    write_webhooks(workspace.root, [{"name": "team-chat", "url": slack.url, "format": "slack"}])
    emit(
        workspace,
        DRIFT_ALERT,
        model="churn",
        payload={"alerts": ["input drift in age: PSI 0.41 > 0.2"], "window_s": 3600},
    )
    emit(
        workspace,
        ALIAS_MOVED,
        model="churn",
        payload={"alias": "canary", "version": "4", "previous_version": None, "weight": 10},
    )
    emit(
        workspace,
        ALIAS_MOVED,
        model="churn",
        payload={
            "alias": "champion",
            "version": "4",
            "reason": "hotfix, db password=Zx9kLmQ2vR7tYw",
        },
        actor="alice",
    )
    first, second, third = slack.wait_for(3)
    assert third.json["text"].endswith("by alice: hotfix, db password=***")  # redacted
    assert first.json == {
        "text": f"[{workspace.name}] churn: drift alert: input drift in age: PSI 0.41 > 0.2"
    }
    assert second.json == {"text": f"[{workspace.name}] churn: v4 is now canary at 10% of traffic"}
    assert "x-mlflow-signature" not in first.headers  # declared without a secret


def test_nothing_is_journaled_when_no_receiver_wants_the_event(workspace, receivers, signed):
    only_rollbacks = receivers()
    write_webhooks(
        workspace.root,
        [{"url": only_rollbacks.url, "secret_env": signed, "events": ["rollback"]}],
    )
    assert emit(workspace, ALIAS_MOVED, model="churn", payload={"alias": "staging"}) is None
    assert not agent_control.is_running(workspace)


def test_a_receiver_down_while_the_agent_is_killed_gets_everything_once_it_is_back(
    workspace, receivers, signed
):
    import os
    import signal

    from jupyter_mlops.journal import agent_control as control

    down = receivers()
    port = down.port
    down.close()  # nothing listens there now: connection refused
    write_webhooks(
        workspace.root,
        [{"name": "later", "url": f"http://127.0.0.1:{port}/hook", "secret_env": signed}],
    )
    sent = _emit_moves(workspace, 4)
    queue = wait_until(lambda: read_queue(workspace), 30, message="nothing was handed over")
    wait_until(
        lambda: any(d.attempts >= 1 for d in queue.recent(10)),
        30,
        message="no delivery was attempted",
    )
    os.kill(control.read_status(workspace)["pid"], signal.SIGKILL)
    wait_until(lambda: not control.is_running(workspace), 30, message="the agent survived")
    back = receivers(port=port)
    control.ensure_running(workspace)  # what the next journaled record would do
    got = back.wait_for(4, timeout=60)
    assert [r.event_id for r in got] == [e for _, e in sent]
    assert all(signature_ok(SECRET, r) for r in got)
    wait_until(lambda: queue.counts()["delivered"] == 4, 30, message="deliveries not recorded")
    failed_attempts = [d.error for d in queue.recent(10) if d.attempts > 1]
    assert failed_attempts == [None]  # the first event's refused connections were recorded...
    [first] = [d for d in queue.recent(10) if d.event.id == sent[0][1]]
    assert first.attempts >= 2 and first.status == 200  # ... and retried until it went through


def test_release_actions_announce_themselves(workspace, receivers, signed, monkeypatch):
    from release_support import make_data, registered

    from jupyter_mlops.release import rollout, validation

    monkeypatch.setenv("MLOPS_ACTOR", "alice")
    hook = receivers()
    make_data(200, seed=3).to_csv(workspace.root / "eval.csv", index=False)
    write_webhooks(
        workspace.root,
        [{"url": hook.url, "secret_env": signed, "models": ["churn"]}],
        release={
            "model": "churn",
            "evaluation": {"path": "eval.csv", "target": "label"},
            "gates": {"metrics": {"accuracy": {"min": 0.5}}},
        },
    )
    registered(workspace, "churn", ("good", "good"))
    validation.validate(gateway_for(workspace), "churn", 1, write_card=False)
    rollout.promote(gateway_for(workspace), "churn", 1, "champion")
    rollout.promote(gateway_for(workspace), "churn", 2, "canary", weight=20)
    rollout.rollback(gateway_for(workspace), "churn", reason="too slow")

    got = [r.json for r in hook.wait_for(9)]
    seen = [(e["kind"], e["data"].get("alias"), e["data"].get("version")) for e in got]
    assert seen == [
        ("version_registered", None, "1"),
        ("alias_moved", "candidate", "1"),
        ("version_registered", None, "2"),
        ("alias_moved", "candidate", "2"),
        ("gate_verdict", None, "1"),
        ("alias_moved", "champion", "1"),
        ("alias_moved", "canary", "2"),
        ("alias_moved", "canary", None),
        ("rollback", "canary", None),
    ]
    assert got[3]["data"]["previous_version"] == "1"
    assert got[4]["data"]["verdict"] == "passed" and got[4]["data"]["metrics"]["accuracy"] > 0.5
    assert got[6]["data"]["weight"] == 20
    assert got[8]["data"]["from_version"] == "2" and got[8]["data"]["reason"] == "too slow"
    assert {e["actor"] for e in got} == {"alice"}
    assert (
        got[8]["text"] == f"[{workspace.name}] churn: canary rolled back from v2 by alice: too slow"
    )


def test_events_lists_deliveries_and_retries_the_refused_ones(workspace, receivers, signed, capsys):
    from jupyter_mlops.cli import main

    picky = receivers(refuse=True)
    write_webhooks(workspace.root, [{"name": "picky", "url": picky.url, "secret_env": signed}])
    [(_, event)] = _emit_moves(workspace, 1)
    queue = wait_until(lambda: read_queue(workspace), 30, message="nothing was handed over")
    wait_until(lambda: queue.counts()["failed"] == 1, 30, message="the refusal was not recorded")
    assert len(picky.requests) == 1  # a 400 is not retried

    assert main(["-C", str(workspace.root), "events"]) == 0
    out = capsys.readouterr().out
    assert "picky" in out and "http://127.0.0.1:" in out
    assert "0 pending, 0 delivered, 1 failed" in out
    assert "failed    alias_moved" in out and "400, 1 attempt: the receiver refused it (400)" in out
    assert "--retry-failed" in out

    picky.refuse = False
    assert main(["-C", str(workspace.root), "events", "--retry-failed", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["retried"] == 1 and answer["receivers"][0]["name"] == "picky"
    [got] = picky.wait_for(1)
    assert got.event_id == event
    wait_until(lambda: queue.counts()["delivered"] == 1, 30, message="not marked delivered")


@pytest.mark.parametrize(
    ("hook", "message"),
    [
        (
            "{url: 'http://x.org/h', secert_env: K}",
            r"mlops.yaml:4: events.webhooks.0.secert_env: unknown key \(did you mean 'secret_env'\?\)",
        ),
        (
            "{url: 'http://x.org/h', secret_env: K, events: [alias_move]}",
            r":4: events.webhooks.0.events: unknown event 'alias_move' \(did you mean 'alias_moved'\?\)",
        ),
        ("{url: 'http://x.org/h'}", r":4: events.webhooks.0: needs `secret_env`"),
        ("{url: 'ftp://x.org/h', secret_env: K}", r"events.webhooks.0.url: 'ftp://x.org/h' is not"),
        ("{secret_env: K}", r"needs `url` or `url_env`"),
        ("{url: 'http://x.org/h', secret_env: 'hunter2!'}", r"must name an environment variable"),
        (
            "{url: 'https://hooks.slack.com/services/T0/B0/XYZ', format: slack}",
            r"a Slack incoming-webhook URL is itself a secret",
        ),
        ("{url: 'http://x.org/h', secret_env: K, format: xml}", r"must be one of json, slack"),
        ("{url: 'http://x.org/h', secret_env: K, timeout: soon}", r"'soon' is not a duration"),
    ],
)
def test_mistakes_in_the_events_section_name_the_key_and_line(tmp_path, hook, message):
    from jupyter_mlops.errors import ConfigError
    from jupyter_mlops.journal.webhook_spec import load_webhooks
    from jupyter_mlops.workspace import Workspace

    (tmp_path / "mlops.yaml").write_text(f"project: p\nevents:\n  webhooks:\n    - {hook}\n")
    with pytest.raises(ConfigError, match=message):
        load_webhooks(Workspace.find(tmp_path))


def test_a_broken_events_section_never_breaks_the_action_that_emits(tmp_path, caplog):
    from jupyter_mlops.workspace import Workspace

    (tmp_path / "mlops.yaml").write_text("events:\n  webhook: []\n")
    assert emit(Workspace.find(tmp_path), ALIAS_MOVED, model="m", payload={}) is None
    assert "events.webhook: unknown key (did you mean 'webhooks'?)" in caplog.text


def test_monitor_alerts_are_announced_once_while_they_last(workspace, receivers, signed):
    import time

    from monitor_support import stream, training_frame

    from jupyter_mlops.monitor.label_import import import_labels, labels_from_records
    from jupyter_mlops.monitor.predlog import PredictionLog
    from jupyter_mlops.monitor.report import build_report

    hook = receivers()
    write_webhooks(
        workspace.root,
        [{"url": hook.url, "secret_env": signed, "events": ["drift_alert", "quality_alert"]}],
        monitor={"quality": {"min_labels": 10, "min": {"accuracy": 0.8}}},
    )
    records = stream(60, t0=time.time() - 600, drift=True, dt=5)
    with PredictionLog(gateway_for(workspace), "churn") as log:
        for record in records:
            log.append(record)
    wrong = [  # every prediction turns out wrong
        {"request_id": r["request_id"], "row": k, "label": 1 - out}
        for r in records
        for k, out in enumerate(r["outputs"])
    ]
    import_labels(gateway_for(workspace), "churn", labels_from_records(wrong))
    for _ in range(2):  # the second evaluation finds the same alerts on: nothing new to say
        report = build_report(
            gateway_for(workspace), "churn", window="1h", reference=training_frame(2000)
        )
    assert any(a.startswith("quality: v1: accuracy 0 < 0.8") for a in report.alerts), report.alerts
    got = {r.json["kind"]: r.json for r in hook.wait_for(2)}
    assert set(got) == {"drift_alert", "quality_alert"}
    assert got["quality_alert"]["data"]["failing"] == ["v1:accuracy"]
    assert got["quality_alert"]["data"]["figures"]["1"]["accuracy"] == 0.0
    assert "age" in got["drift_alert"]["data"]["drifted"]
    queue = read_queue(workspace)
    assert queue is not None
    wait_until(lambda: queue.counts()["pending"] == 0, 30, message="deliveries still pending")
    assert len(hook.requests) == 2


def test_approvals_asked_and_decided_are_announced(workspace, receivers, signed, monkeypatch):
    from release_support import registered

    from jupyter_mlops.release import approvals

    hook = receivers()
    write_webhooks(
        workspace.root,
        [
            {
                "url": hook.url,
                "secret_env": signed,
                "events": ["approval_requested", "approval_decided"],
            }
        ],
        release={"model": "churn", "approvals": {"champion": {"approvers": ["bob"]}}},
    )
    monkeypatch.setenv("MLOPS_ACTOR", "alice")
    registered(workspace, "churn", ("good",))
    approvals.request_approval(gateway_for(workspace), "churn", 1, comment="ready for traffic")
    monkeypatch.setenv("MLOPS_ACTOR", "bob")
    approvals.decide(gateway_for(workspace), "churn", 1, "approve", comment="looks good")
    asked, decided = (r.json for r in hook.wait_for(2))
    assert asked["kind"] == "approval_requested" and asked["actor"] == "alice"
    assert asked["text"] == (
        f"[{workspace.name}] churn: approval requested for v1 to become champion by alice"
    )
    assert decided["data"]["decision"] == "approved" and decided["actor"] == "bob"
    assert decided["text"].endswith("churn: v1 to champion approved by bob: looks good")
