"""The OpenAPI document: served (authenticated), complete (every registered route and method is in
it, so it cannot drift), and true (schemathesis against a real Jupyter server: no input makes a
route answer 500, and every answer matches the document)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from ports import free_port
from server_support import api, jp_root_dir, jp_server_config
from tornado.httpclient import HTTPClientError
from waiting import wait_until

from jupyter_mlops.server import ROUTES
from jupyter_mlops.server.openapi import DOCUMENT_PATH, openapi_document

pytestmark = pytest.mark.filterwarnings("error::jupyter_server.utils.JupyterServerAuthWarning")
__all__ = ["jp_root_dir", "jp_server_config"]

METHODS = ("get", "post", "put", "patch", "delete")


def _template(regex: str) -> str:
    """``models/([^/]+)/history`` -> ``/models/{}/history`` (parameters compared by position)."""
    return "/" + re.sub(r"\([^)]*\)", "{}", regex).replace("\\.", ".")


def _registered() -> set[tuple[str, str]]:
    return {(_template(regex), m) for regex, cls in ROUTES for m in METHODS if m in cls.__dict__}


def _documented() -> set[tuple[str, str]]:
    paths = openapi_document()["paths"]
    return {
        (re.sub(r"\{[^}]+\}", "{}", path), m)
        for path, ops in paths.items()
        for m in ops
        if m in METHODS
    }


def test_every_registered_route_is_in_the_document_and_nothing_else():
    missing = sorted(_registered() - _documented())
    extra = sorted(_documented() - _registered())
    where = DOCUMENT_PATH.name
    assert not missing, (
        f"routes missing from jupyter_mlops/server/{where} (add a paths entry, parameters "
        f"as {{name}}): " + ", ".join(f"{m.upper()} {p}" for p, m in missing)
    )
    assert not extra, f"{where} documents routes that are not registered: {extra}"


async def test_the_document_is_served_to_authenticated_callers_only(jp_fetch, workspace):
    code, doc = await api(jp_fetch, "openapi.json")
    assert code == 200 and doc == openapi_document()
    with pytest.raises(HTTPClientError) as err:
        await jp_fetch("jupyter-mlops", "api", "openapi.json", headers={"Authorization": ""})
    assert err.value.code == 403


@pytest.fixture
def jupyter_server(workspace, tmp_path):
    """A real ``jupyter server`` process serving ``workspace`` on a free port, with a token."""
    from release_support import registered

    registered(workspace, "churn", ("good",))
    port, token = free_port(), "schemathesis-token"
    home = tmp_path / "jupyter-home"
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTER_DATA_DIR": str(home / "data"),
    }
    log = (tmp_path / "server.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter_server",
            f"--ServerApp.port={port}",
            "--ServerApp.ip=127.0.0.1",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={workspace.root}",
            "--ServerApp.open_browser=False",
            "--allow-root",
        ],
        cwd=workspace.root,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}/jupyter-mlops/api"
    request = urllib.request.Request(
        f"{base}/openapi.json", headers={"Authorization": f"token {token}"}
    )

    def serving() -> bool:
        assert proc.poll() is None, (tmp_path / "server.log").read_text()[-3000:]
        with urllib.request.urlopen(request, timeout=2):
            return True

    wait_until(
        serving, 60, interval=0.3, message="the Jupyter server did not start", ignoring=(OSError,)
    )
    yield base, token, tmp_path / "server.log"
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


def test_schemathesis_finds_no_500_and_no_answer_outside_the_document(jupyter_server, tmp_path):
    base, token, server_log = jupyter_server
    cli = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    assert cli, "schemathesis is in the test extra"
    done = subprocess.run(
        [
            cli,
            "run",
            str(DOCUMENT_PATH),
            "--url",
            base,
            "-H",
            f"Authorization: token {token}",
            "--checks",
            "not_a_server_error,response_schema_conformance",
            "--max-examples",
            "6",
            "--phases",
            "examples,fuzzing",
            "--seed",
            "1",
            "--no-color",
            "--generation-database",
            "none",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout[-6000:] + server_log.read_text()[-3000:]
    operations = len(_documented())
    assert re.search(rf"Tested: {operations}\b", done.stdout), done.stdout[-3000:]
    assert re.search(r"\d+ generated, \d+ passed", done.stdout), done.stdout[-3000:]
