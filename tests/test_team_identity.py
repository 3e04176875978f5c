"""With MLflow's auth app on, records name the authenticated user, and a refusal is one line."""

from __future__ import annotations

import getpass
import os
import subprocess
import sys
from pathlib import Path

import pytest
import team_server

import jupyter_mlops
from jupyter_mlops.release import history
from jupyter_mlops.store.client import client_for, forget_cached_clients
from jupyter_mlops.store.gateway import gateway_for
from jupyter_mlops.workspace import Workspace

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def as_user(auth_server, tmp_path, monkeypatch):
    """Switch the process to one of the auth server's users; returns the project workspace."""
    root = tmp_path / "project"
    root.mkdir()
    (root / "mlops.yaml").write_text("project: identity\n")
    for var in ("MLOPS_WORKSPACE", "MLOPS_EXPERIMENT", "MLOPS_ACTOR", "MLFLOW_TRACKING_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", auth_server.url)
    monkeypatch.chdir(root)

    def switch(name: str) -> Workspace:
        monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", name)
        monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", auth_server.users[name])
        forget_cached_clients()
        return Workspace.find(root)

    yield switch
    from jupyter_mlops.capture import tracker

    tracker.shutdown_recorders()
    forget_cached_clients()


def test_runs_and_release_history_name_the_authenticated_user(as_user):
    assert getpass.getuser() != "alice"
    ws = as_user("alice")
    with jupyter_mlops.track(workspace=ws, name="tracked-by-alice") as run:
        jupyter_mlops.log_metrics(x=1.0)
    from jupyter_mlops.pipeline.records import flush

    flush(ws)
    client = client_for(ws)
    [found] = client.search_runs(
        [client.get_experiment_by_name("identity").experiment_id],
        filter_string="attributes.run_name = 'tracked-by-alice'",  # other tests log by-alice
    )
    assert found.data.tags["mlflow.user"] == "alice", run

    client.create_registered_model("identity-model")
    event = history.record(gateway_for(ws), "identity-model", "note", reason="who am I")
    assert event.actor == "alice"
    os.environ["MLOPS_ACTOR"] = "mallory"  # a label cannot override the authenticated user
    try:
        assert history.record(gateway_for(ws), "identity-model", "note").actor == "alice"
    finally:
        del os.environ["MLOPS_ACTOR"]
    assert [e.actor for e in history.events(gateway_for(ws), "identity-model")] == [
        "alice",
        "alice",
    ]


def test_a_refusal_by_the_server_is_one_line_naming_user_and_server(as_user, auth_server):
    ws = as_user("alice")
    secret = client_for(ws).create_experiment("alice-secret")
    team_server.auth_request(
        auth_server.url,
        "/api/3.0/mlflow/users/permissions/grant",
        {"username": "bob", "resource_type": "experiment", "resource_id": secret}
        | {"permission": "DENY"},
    )
    env = {
        **os.environ,
        "MLFLOW_TRACKING_USERNAME": "bob",
        "MLFLOW_TRACKING_PASSWORD": auth_server.users["bob"],
        "PYTHONPATH": str(REPO),
    }
    done = subprocess.run(
        [sys.executable, "-m", "jupyter_mlops.cli", "runs", "--experiment", "alice-secret"],
        cwd=ws.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 8, done.stderr
    assert "Traceback" not in done.stderr
    first = done.stderr.splitlines()[0]
    assert first.startswith("jupyter-mlops: error: permission denied by the tracking server at ")
    assert auth_server.url in first and "for user bob" in first
