"""Every route: credentials required, the authorizer asked, XSRF enforced for cookie writes,
path traversal refused (4xx) with nothing outside the workspace read or written, and a
tracking server that is down answered with a fast 503."""

from __future__ import annotations

import os
import socket
import time
from urllib.parse import quote

import pytest
from server_support import RecordingAuthorizer, api, jp_root_dir, jp_server_config
from tornado.httpclient import HTTPClientError

pytestmark = pytest.mark.filterwarnings("error::jupyter_server.utils.JupyterServerAuthWarning")
__all__ = ["jp_root_dir", "jp_server_config"]

RUN = "0123456789abcdef0123456789abcdef"
# (method, path below /jupyter-mlops/api/, resource): one entry per method of every route
ROUTES = [
    ("GET", "experiments", "runs"),
    ("GET", "runs", "runs"),
    ("GET", f"runs/{RUN}", "runs"),
    ("GET", f"comparisons?run={RUN}&run={RUN}", "runs"),
    ("GET", "datasets", "datasets"),
    ("GET", f"lineage?node={RUN}", "lineage"),
    ("GET", "models", "models"),
    ("POST", "models", "models"),
    ("GET", "models/m/versions", "models"),
    ("GET", "models/m/versions/1", "models"),
    ("POST", "models/m/versions/1/validations", "models"),
    ("GET", "models/m/versions/1/validations/abc", "models"),
    ("PUT", "models/m/aliases/canary", "models"),
    ("POST", "models/m/rollbacks", "models"),
    ("GET", "models/m/history", "models"),
    ("GET", "models/m/approvals", "models"),
    ("PUT", "models/m/versions/1/approvals/champion", "models"),
    ("GET", "loop", "loop"),
    ("POST", "loop/firings", "loop"),
    ("GET", "pipeline", "pipeline"),
    ("GET", "builds", "pipeline"),
    ("POST", "builds", "pipeline"),
    ("GET", "builds/abc", "pipeline"),
    ("DELETE", "builds/abc", "pipeline"),
    ("GET", "monitor/m", "monitor"),
    ("POST", "monitor/m/labels", "monitor"),
    ("GET", "events", "events"),
    ("GET", "status", "status"),
    ("GET", "outbox", "runs"),
    ("GET", "openapi.json", "api"),
    ("PATCH", "runs", "api"),  # unknown method: no handler method -> 405 after auth
]


def _every_route_is_listed():
    from jupyter_mlops.server import ROUTES as REGISTERED

    methods = {"get", "post", "put", "delete"}
    listed = {m.lower() for m, _, _ in ROUTES}
    count = sum(1 for _, cls in REGISTERED for m in methods & listed if m in cls.__dict__)
    return count


def test_the_table_covers_every_route_method():
    assert _every_route_is_listed() == len([r for r in ROUTES if r[0] != "PATCH"])


async def _fetch(jp_fetch, method, path, **kwargs):
    url_path, _, query = path.partition("?")
    params = {}
    for pair in filter(None, query.split("&")):
        k, _, v = pair.partition("=")
        params[k] = v
    if method in ("POST", "PUT", "PATCH"):
        kwargs.setdefault("body", "{}")
    return await jp_fetch(
        "jupyter-mlops", "api", *url_path.split("/"), method=method, params=params, **kwargs
    )


@pytest.mark.parametrize(("method", "path", "resource"), ROUTES)
async def test_every_route_needs_credentials(jp_fetch, workspace, method, path, resource):
    with pytest.raises(HTTPClientError) as err:
        await _fetch(jp_fetch, method, path, headers={"Authorization": ""})
    assert err.value.code == 403
    assert RecordingAuthorizer.asked == []


@pytest.mark.parametrize(("method", "path", "resource"), ROUTES[:-1])
async def test_every_route_asks_the_authorizer(jp_fetch, workspace, method, path, resource):
    RecordingAuthorizer.deny = {f"jupyter_mlops:{resource}"}
    with pytest.raises(HTTPClientError) as err:
        await _fetch(jp_fetch, method, path)
    assert err.value.code == 403
    action = "read" if method == "GET" else "write"
    assert RecordingAuthorizer.asked == [(action, f"jupyter_mlops:{resource}")]


async def test_cookie_writes_need_the_xsrf_token(jp_fetch, jp_http_port, jp_base_url, workspace):
    """A browser session (cookie) may not write without _xsrf; with it, the request is served."""
    from tornado.httpclient import AsyncHTTPClient

    # log in with the token once: the server answers with its login and _xsrf cookies
    first = await jp_fetch("jupyter-mlops", "api", "models")
    cookies = {}
    for header in first.headers.get_list("Set-Cookie"):
        name, _, rest = header.partition("=")
        cookies[name] = rest.split(";", 1)[0]
    login = [n for n in cookies if n.startswith("username-")]
    assert login, first.headers.get_list("Set-Cookie")
    url = f"http://127.0.0.1:{jp_http_port}{jp_base_url}jupyter-mlops/api/models"
    client = AsyncHTTPClient()
    cookie = "; ".join(f"{n}={v}" for n, v in cookies.items() if n in login)

    # the cookie alone authenticates a read
    read = await client.fetch(url, headers={"Cookie": cookie}, raise_error=False)
    assert read.code == 200, read.body
    # but not a write without the XSRF token
    write = await client.fetch(
        url, method="POST", body='{"run_id": "x"}', headers={"Cookie": cookie}, raise_error=False
    )
    assert write.code == 403, write.body
    assert b"xsrf" in write.body.lower()
    # with an _xsrf cookie echoed in the header (what JupyterLab's requests do), it is served
    token = "5eed" * 8
    ok = await client.fetch(
        url,
        method="POST",
        body='{"run_id": "bad id!"}',
        headers={"Cookie": f"{cookie}; _xsrf={token}", "X-XSRFToken": token},
        raise_error=False,
    )
    assert ok.code == 400, ok.body  # past XSRF: the handler refused the bad run id


TRAVERSALS = [
    "../../secret.txt",
    "..%2F..%2Fsecret.txt",
    "..%252F..%252Fsecret.txt",
    "%2e%2e%2f%2e%2e%2fsecret.txt",
    "/etc/passwd",
    "%2Fetc%2Fpasswd",
    "..\\..\\secret.txt",
]


def _outside_snapshot(root):
    """Every file beside the workspace (its parent folder), with mtimes."""
    parent = root.parent
    out = {}
    for dirpath, dirnames, filenames in os.walk(parent):
        if dirpath.startswith(str(root)):
            dirnames[:] = []
            continue
        for name in filenames:
            p = os.path.join(dirpath, name)
            out[p] = os.stat(p).st_mtime_ns
    return out


@pytest.mark.parametrize("payload", TRAVERSALS)
async def test_path_traversal_is_refused(jp_fetch, workspace, payload):
    secret = workspace.root.parent / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    from release_support import registered

    registered(workspace, "churn", ("good",))
    before = _outside_snapshot(workspace.root)
    raw = payload if "%" in payload else quote(payload, safe="")
    attempts = [
        ("GET", f"runs/{raw}"),
        ("GET", f"models/{raw}/versions"),
        ("GET", f"models/churn/versions/{raw}"),
        ("GET", f"models/{raw}/history"),
        ("PUT", f"models/{raw}/aliases/canary"),
        ("POST", f"models/churn/versions/{raw}/validations"),
        ("GET", f"monitor/{raw}"),
        ("GET", f"builds/{raw}"),
        ("DELETE", f"builds/{raw}"),
    ]
    from tornado.httpclient import AsyncHTTPClient

    for method, path in attempts:
        code, answer = await _raw(jp_fetch, method, path)
        assert 400 <= code < 500, (method, path, code, answer)
        assert "TOP-SECRET" not in str(answer)
    for param in (payload, f"file:{payload}"):
        code, answer = await api(jp_fetch, "lineage", params={"node": param})
        assert 400 <= code < 500, (param, code, answer)
        assert "TOP-SECRET" not in str(answer)
    code, answer = await api(jp_fetch, "models", method="POST", payload={"run_id": payload})
    assert code == 400
    code, answer = await api(jp_fetch, "builds", method="POST", payload={"steps": [payload]})
    assert 400 <= code < 500
    assert _outside_snapshot(workspace.root) == before
    del AsyncHTTPClient


async def _raw(jp_fetch, method, path):
    """A request whose path is sent exactly as given (already percent-encoded)."""
    import json

    from tornado.httpclient import AsyncHTTPClient, HTTPRequest

    # jp_fetch quotes path parts; build the URL ourselves to keep double encodings intact
    probe = await jp_fetch("api", "status")
    base = probe.effective_url.rsplit("/api/status", 1)[0]
    token = probe.request.headers["Authorization"]
    req = HTTPRequest(
        f"{base}/jupyter-mlops/api/{path}",
        method=method,
        headers={"Authorization": token},
        body="{}" if method in ("POST", "PUT") else None,
        allow_nonstandard_methods=True,
    )
    response = await AsyncHTTPClient().fetch(req, raise_error=False)
    try:
        return response.code, json.loads(response.body or b"{}")
    except ValueError:
        return response.code, response.body.decode(errors="replace")


@pytest.fixture
def dead_server():
    """A port that accepts connections and never answers, and one that refuses them."""
    hang = socket.socket()
    hang.bind(("127.0.0.1", 0))
    hang.listen(8)
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    refused = closed.getsockname()[1]
    closed.close()
    yield hang.getsockname()[1], refused
    hang.close()


@pytest.mark.parametrize("which", ["hanging", "refused"])
async def test_unreachable_tracking_server_is_a_fast_503(
    jp_fetch, workspace, monkeypatch, dead_server, which
):
    port = dead_server[0] if which == "hanging" else dead_server[1]
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("MLOPS_STORE_PROBE_TIMEOUT", "1")
    for path in (("runs",), ("models",), ("models", "m", "history"), ("experiments",)):
        started = time.monotonic()
        code, answer = await api(jp_fetch, *path)
        elapsed = time.monotonic() - started
        assert code == 503, answer
        assert "tracking server" in answer["error"] and answer["hint"]
        assert elapsed < 5, f"{path} took {elapsed:.1f} s"
