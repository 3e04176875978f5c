"""REST hardening against a real Jupyter server (jp_fetch): routes that run code need the right to
run kernels, job queues are bounded, lineage names stay inside the workspace, and a 500 carries
only an error id (the details are in the server log)."""

from __future__ import annotations

import json
import logging
import threading

import pytest
from release_support import registered
from server_support import RecordingAuthorizer, api, jp_root_dir, jp_server_config
from tornado.httpclient import HTTPClientError

from jupyter_mlops.errors import Busy, NotFound
from jupyter_mlops.lineage.query import lineage
from jupyter_mlops.server.jobs import JobRegistry
from jupyter_mlops.store.gateway import gateway_for

pytestmark = pytest.mark.filterwarnings("error::jupyter_server.utils.JupyterServerAuthWarning")
__all__ = ["jp_root_dir", "jp_server_config"]

CODE_RUNNING = [
    ("builds",),
    ("models", "churn", "versions", "1", "validations"),
]


@pytest.mark.parametrize("path", CODE_RUNNING, ids=lambda p: p[0])
async def test_routes_that_run_code_need_execute_on_kernels(
    jp_fetch, jp_serverapp, workspace, path
):
    registered(workspace, "churn", ("good",))
    (workspace.root / "mlops.yaml").write_text("steps: {}\n")
    RecordingAuthorizer.deny = {"kernels"}
    code, answer = await api(jp_fetch, *path, method="POST", payload={})
    assert code == 403, answer
    assert ("execute", "kernels") in RecordingAuthorizer.asked
    assert "kernels" in answer["error"]
    jobs = jp_serverapp.web_app.settings["jupyter_mlops"].jobs.list()
    assert jobs == [], "a refused request must not have queued a job"


async def test_allowed_code_routes_ask_for_both_rights(jp_fetch, workspace):
    registered(workspace, "churn", ("good",))
    code, answer = await api(
        jp_fetch, *CODE_RUNNING[1], method="POST", payload={"reason": "rights"}
    )
    assert code == 202, answer
    assert ("write", "jupyter_mlops:models") in RecordingAuthorizer.asked
    assert ("execute", "kernels") in RecordingAuthorizer.asked


def test_a_full_job_queue_refuses_more_work():
    registry = JobRegistry(workers=1, max_active=3)
    release = threading.Event()
    try:
        for _ in range(3):
            registry.submit("validation", "v", lambda job: release.wait(30))
        with pytest.raises(Busy) as info:
            registry.submit("validation", "v", lambda job: None)
        assert info.value.http_status == 429
    finally:
        release.set()
        registry.shutdown()


async def test_a_full_job_queue_is_a_429_over_rest(jp_fetch, workspace, jp_serverapp):
    registered(workspace, "churn", ("good",))
    service = jp_serverapp.web_app.settings["jupyter_mlops"]
    release = threading.Event()
    try:
        for _ in range(1000):
            try:
                service.jobs.submit("validation", "blocker", lambda job: release.wait(30))
            except Busy:
                break
        code, answer = await api(jp_fetch, *CODE_RUNNING[1], method="POST", payload={})
        assert code == 429, answer
        assert answer["hint"]
    finally:
        release.set()


async def test_a_bare_lineage_name_is_not_looked_up_outside_the_workspace(
    jp_fetch, workspace, tmp_path, monkeypatch
):
    registered(workspace, "churn", ("good",))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "secret.csv").write_text("password,hunter2\n")
    monkeypatch.chdir(elsewhere)  # the server's working folder is not the workspace
    code, answer = await api(jp_fetch, "lineage", params={"node": "secret.csv"})
    assert code == 404, answer
    assert "elsewhere" not in str(answer) and "hash" not in str(answer)


def test_lineage_resolves_bare_names_against_the_workspace(workspace, tmp_path, monkeypatch):
    (workspace.root / "data.csv").write_text("a\n1\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "secret.csv").write_text("x\n")
    monkeypatch.chdir(elsewhere)
    with pytest.raises(NotFound):
        lineage(gateway_for(workspace), "secret.csv")
    graph = lineage(gateway_for(workspace), "data.csv").to_dict()
    assert any("data.csv" in str(n) for n in graph["nodes"]), graph


async def test_an_unexpected_error_is_a_500_with_an_error_id_only(jp_fetch, workspace, caplog):
    db = workspace.state_dir / "mlflow.db"
    for extra in ("-wal", "-shm"):
        db.with_name(db.name + extra).unlink(missing_ok=True)
    db.write_bytes(b"this is not a database, and the error text must not leak" * 100)
    caplog.set_level(logging.ERROR)
    code, answer = await api(jp_fetch, "experiments")
    assert code == 500, answer
    error_id = answer["error_id"]
    assert error_id in answer["error"]
    assert "database" not in str(answer).lower() and "Error:" not in str(answer)
    logged = [r for r in caplog.records if error_id in r.getMessage()]
    assert logged and logged[0].exc_info, "the traceback must be in the server log under its id"


@pytest.mark.parametrize(
    "raw",
    [
        "[" * 30_000 + "]" * 30_000,  # under the 64 KB body limit
        '{"version": "1", "reason": "r", "weight": NaN}',
        '{"version": "1", "reason": "r", "weight": Infinity}',
        '{"version": "1", "reason": "r", "weight": ' + "9" * 5000 + "}",
    ],
    ids=["deep", "nan", "infinity", "huge-int"],
)
async def test_hostile_json_bodies_are_400s(jp_fetch, workspace, raw):
    registered(workspace, "churn", ("good",))
    try:
        await jp_fetch(
            "jupyter-mlops", "api", "models", "churn", "aliases", "canary", method="PUT", body=raw
        )
    except HTTPClientError as err:
        code, answer = err.code, json.loads(err.response.body)
    else:
        raise AssertionError("a hostile body was accepted")
    assert code == 400, answer
    assert "error_id" not in answer
    code, history = await api(jp_fetch, "models", "churn", "history")
    assert code == 200 and not [e for e in history["events"] if e.get("action") == "promote"]


async def test_a_nan_metric_is_answered_as_strict_json(jp_fetch, workspace):
    from jupyter_mlops.store.client import client_for, experiment_id

    client = client_for(workspace)
    run = client.create_run(experiment_id(workspace), run_name="nan")
    client.log_metric(run.info.run_id, "loss", float("nan"))
    client.log_metric(run.info.run_id, "gain", float("inf"))
    client.set_terminated(run.info.run_id, "FINISHED")
    for path in (("runs",), ("runs", run.info.run_id)):
        response = await jp_fetch("jupyter-mlops", "api", *path)
        json.loads(response.body, parse_constant=_refuse_non_json)


def _refuse_non_json(token):
    raise AssertionError(f"not strict JSON: {token}")


def test_a_job_that_crashes_reports_an_error_id_only(caplog):
    registry = JobRegistry(workers=1)

    def crash(job):
        raise RuntimeError("secret: password=hunter2")

    caplog.set_level(logging.ERROR, logger="jupyter_mlops")
    try:
        job = registry.submit("validation", "v", crash)
        for _ in range(200):
            if not job.active:
                break
            threading.Event().wait(0.05)
        error = job.to_dict()["error"]
        assert job.status == "failed" and "hunter2" not in str(error)
        assert error["error_id"] in error["error"]
        assert any(error["error_id"] in r.getMessage() and r.exc_info for r in caplog.records)
    finally:
        registry.shutdown()
