"""The runs route through a real Jupyter server (jp_fetch), with authentication required."""

from __future__ import annotations

import threading

import pytest
from server_support import RecordingAuthorizer, body, jp_root_dir, jp_server_config, make_runs
from tornado.httpclient import HTTPClientError

from jupyter_mlops.server.errors import INTERNAL_ERROR

# Jupyter Server warns about any route registered without authentication: for ours, that is an error
pytestmark = pytest.mark.filterwarnings("error::jupyter_server.utils.JupyterServerAuthWarning")
__all__ = ["jp_root_dir", "jp_server_config"]  # fixtures, imported for pytest


async def test_lists_recent_runs_newest_first(jp_fetch, workspace):
    ids = make_runs(workspace, ["first", "second", "third"])
    response = await jp_fetch("jupyter-mlops", "api", "runs")
    assert response.code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    runs = body(response)["runs"]
    assert [r["name"] for r in runs] == ["third", "second", "first"]
    assert [r["run_id"] for r in runs] == ids[::-1]
    assert runs[0]["status"] == "FINISHED"
    assert runs[0]["metrics"] == {"accuracy": pytest.approx(0.52)}
    assert runs[0]["params"] == {"C": "2"}
    assert RecordingAuthorizer.asked == [("read", "jupyter_mlops:runs")]


async def test_limit_and_experiment_filter(jp_fetch, workspace):
    make_runs(workspace, ["a1", "a2", "a3"])
    make_runs(workspace, ["b1"], experiment="other")
    limited = body(await jp_fetch("jupyter-mlops", "api", "runs", params={"limit": "2"}))
    assert len(limited["runs"]) == 2
    names = {r["name"] for r in limited["runs"]}
    assert names < {"a1", "a2", "a3", "b1"} and "a1" not in names
    other = body(await jp_fetch("jupyter-mlops", "api", "runs", params={"experiment": "other"}))
    assert [r["name"] for r in other["runs"]] == ["b1"]


async def test_requires_credentials(jp_fetch, workspace):
    make_runs(workspace, ["secret-run"])
    with pytest.raises(HTTPClientError) as err:
        await jp_fetch("jupyter-mlops", "api", "runs", headers={"Authorization": ""})
    assert err.value.code == 403
    assert b"secret-run" not in (err.value.response.body or b"")


async def test_authorizer_can_deny_the_resource(jp_fetch, workspace):
    make_runs(workspace, ["hidden"])
    RecordingAuthorizer.deny = {"jupyter_mlops:runs"}
    with pytest.raises(HTTPClientError) as err:
        await jp_fetch("jupyter-mlops", "api", "runs")
    assert err.value.code == 403
    assert b"hidden" not in err.value.response.body


@pytest.mark.parametrize("limit", ["abc", "0", "1001", "-3", "1.5"])
async def test_bad_limit_is_400_with_a_message(jp_fetch, workspace, limit):
    with pytest.raises(HTTPClientError) as err:
        await jp_fetch("jupyter-mlops", "api", "runs", params={"limit": limit})
    assert err.value.code == 400
    answer = body(err.value.response)
    assert "limit" in answer["error"]
    assert set(answer) == {"error", "hint"}


async def test_unknown_experiment_is_404(jp_fetch, workspace):
    make_runs(workspace, ["x"])
    with pytest.raises(HTTPClientError) as err:
        await jp_fetch("jupyter-mlops", "api", "runs", params={"experiment": "nope"})
    assert err.value.code == 404
    answer = body(err.value.response)
    assert "nope" in answer["error"]
    assert answer["hint"]


@pytest.fixture
def damaged_store(workspace):
    """The workspace with its mlflow.db overwritten, before the server starts: the server opens
    the store as it starts, and a connection it already holds may still answer from SQLite's
    cache, so a store damaged after the start does not fail every read."""
    (workspace.state_dir / "mlflow.db").write_bytes(b"this is not a sqlite database" * 100)
    return workspace


@pytest.mark.embedded_only
async def test_unexpected_error_is_500_without_traceback(damaged_store, jp_fetch):
    with pytest.raises(HTTPClientError) as err:
        await jp_fetch("jupyter-mlops", "api", "runs")
    assert err.value.code == 500
    answer = body(err.value.response)
    assert answer["error"] == f"{INTERNAL_ERROR} (error id {answer['error_id']})"
    text = err.value.response.body.decode()
    assert "Traceback" not in text and "sqlite" not in text.lower()


async def test_store_query_runs_off_the_event_loop(jp_fetch, workspace, monkeypatch):
    from jupyter_mlops.server import runs as runs_route

    threads = []
    real = runs_route.runs_page

    def spy(*args, **kwargs):
        threads.append(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(runs_route, "runs_page", spy)
    make_runs(workspace, ["r"])
    await jp_fetch("jupyter-mlops", "api", "runs")
    assert len(threads) == 1 and threads[0].startswith("jupyter-mlops")
    assert threads[0] != threading.main_thread().name


def test_missing_embedded_store_is_not_created(tmp_path, monkeypatch):
    """Opening JupyterLab in a folder never tracked must not drop .mlops/ there."""
    from jupyter_mlops.errors import NotFound
    from jupyter_mlops.server.runs import runs_page
    from jupyter_mlops.server.service import MlopsService

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("MLOPS_WORKSPACE", raising=False)
    root = tmp_path / "untracked"
    root.mkdir()
    (root / "mlops.yaml").write_text("project: untracked\n")
    service = MlopsService(root)
    assert runs_page(service, limit=20)["runs"] == []
    with pytest.raises(NotFound):
        runs_page(service, experiment="anything", limit=20)
    assert not (root / ".mlops").exists()


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
async def test_unknown_route_is_a_json_404(jp_fetch, workspace, method):
    kwargs = {"body": "{}"} if method == "POST" else {}
    with pytest.raises(HTTPClientError) as err:
        await jp_fetch("jupyter-mlops", "api", "no-such-thing", method=method, **kwargs)
    assert err.value.code == 404
    answer = body(err.value.response)
    assert "no-such-thing" in answer["error"] and answer["hint"]


async def test_unknown_route_needs_credentials_too(jp_fetch, workspace):
    with pytest.raises(HTTPClientError) as err:
        await jp_fetch("jupyter-mlops", "api", "anything", headers={"Authorization": ""})
    assert err.value.code == 403
