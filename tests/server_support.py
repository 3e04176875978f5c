"""Fixtures and helpers shared by the REST tests (``jp_fetch`` against a real Jupyter server).

Import the fixtures into a test module (``from server_support import jp_root_dir,
jp_server_config``) so that pytest finds them there.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jupyter_server.auth.authorizer import Authorizer
from waiting import async_wait_until


class RecordingAuthorizer(Authorizer):
    """Allows everything unless a test names a resource to deny; remembers what was asked."""

    deny: set[str] = set()
    asked: list[tuple[str, str]] = []

    def is_authorized(self, handler, user, action, resource) -> bool:
        RecordingAuthorizer.asked.append((action, resource))
        return resource not in RecordingAuthorizer.deny


@pytest.fixture
def jp_root_dir(workspace) -> Path:
    return workspace.root


@pytest.fixture
def jp_server_config():
    RecordingAuthorizer.deny = set()
    RecordingAuthorizer.asked = []
    return {
        "ServerApp": {
            # terminals off: their websocket route would trigger the auth warning made an error
            "jpserver_extensions": {"jupyter_mlops": True, "jupyter_server_terminals": False},
            "allow_unauthenticated_access": False,
            "authorizer_class": RecordingAuthorizer,
        }
    }


def body(response) -> dict:
    return json.loads(response.body.decode())


async def api(jp_fetch, *path: str, method: str = "GET", payload=None, **kwargs):
    """Call ``/jupyter-mlops/api/<path>`` and return (status, JSON body), errors included."""
    from tornado.httpclient import HTTPClientError

    if payload is not None:
        kwargs["body"] = json.dumps(payload)
    elif method in ("POST", "PUT"):
        kwargs["body"] = "{}"
    try:
        response = await jp_fetch("jupyter-mlops", "api", *path, method=method, **kwargs)
    except HTTPClientError as err:
        assert err.response is not None, err
        return err.code, body(err.response)
    return response.code, body(response)


async def wait_job(jp_fetch, *path: str, timeout: float = 120.0) -> dict:
    """Poll a job resource until it has finished; its final JSON."""

    seen: list[dict] = [{}]

    async def finished() -> dict | None:
        code, answer = await api(jp_fetch, *path)
        assert code == 200, answer
        seen[0] = job = answer["job"]
        return None if job["status"] in ("queued", "running", "cancelling") else job

    return await async_wait_until(
        finished,
        timeout,
        interval=0.2,
        message=lambda: f"job still {seen[0].get('status')}: {seen[0]}",
    )


def make_runs(ws, names, experiment=None, metric=0.5):
    """Runs created straight through MLflow's client, oldest first, each with metrics."""
    from jupyter_mlops.store.client import client_for, experiment_id

    client = client_for(ws)
    exp_id = experiment_id(ws, experiment)
    ids = []
    for i, name in enumerate(names):
        run = client.create_run(exp_id, run_name=name, start_time=1_700_000_000_000 + i * 1000)
        client.log_metric(run.info.run_id, "accuracy", metric + i / 100)
        client.log_param(run.info.run_id, "C", str(i))
        client.set_terminated(run.info.run_id, "FINISHED")
        ids.append(run.info.run_id)
    return ids


RELEASE_YAML = """\
project: panel-test
release:
  model: churn
  evaluation: {path: data/eval.csv, target: label}
  gates:
    metrics: {accuracy: {min: 0.6}}
    size: {max_mb: 50}
  rollout: {canary_weight: 10}
"""


async def promote_over_rest(jp_fetch, model: str, alias: str, payload: dict):
    """``PUT /models/<model>/aliases/<alias>``, a promote, with ``payload``: (status, JSON body)."""
    return await api(jp_fetch, "models", model, "aliases", alias, method="PUT", payload=payload)


def release_project(ws, kinds=("good", "good")) -> list[str]:
    """mlops.yaml with cheap gates, its evaluation file, and one model run per kind."""
    from release_support import fit_model, log_model_run, make_data

    (ws.root / "mlops.yaml").write_text(RELEASE_YAML)
    df = make_data()
    (ws.root / "data").mkdir(exist_ok=True)
    make_data(200, seed=1).to_csv(ws.root / "data" / "eval.csv", index=False)
    return [
        log_model_run(ws, fit_model(df, k), df, name=f"train-{k}-{i}")[0]
        for i, k in enumerate(kinds)
    ]
