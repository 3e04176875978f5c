"""The packaged Dockerfile's entrypoint, run as a process (no Docker engine here): it is the same
router as ``jupyter-mlops serve``, serving the package itself, or following a registry's aliases
when ``MLFLOW_TRACKING_URI`` is set."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import httpx
from ports import free_port
from release_support import FEATURES, registered
from waiting import wait_until

from jupyter_mlops.release import rollout
from jupyter_mlops.release.package import package
from jupyter_mlops.store.gateway import gateway_for


def _image_command(docker: str) -> tuple[list[str], dict[str, str]]:
    """CMD and ENV of a Dockerfile, as an image would run them."""
    cmd = json.loads(re.search(r"^CMD (\[.*\])$", docker, re.M).group(1))
    env = {}
    for line in re.findall(r"^ENV (.*)$", docker, re.M):
        env.update(pair.split("=", 1) for pair in line.split())
    return cmd, env


def _start(cmd: list[str], env: dict[str, str], cwd) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, **env, "HOST": "127.0.0.1", "PORT": str(port)}
    cmd = [sys.executable if cmd[0] == "python" else cmd[0], *cmd[1:]]
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"

    def serving() -> bool:
        assert proc.poll() is None, proc.stdout.read().decode()[-3000:]
        return httpx.get(url + "/ping", timeout=2).status_code == 200

    try:
        wait_until(
            serving,
            120,
            interval=0.2,
            message="the entrypoint did not serve",
            ignoring=(httpx.HTTPError,),
        )
    except AssertionError:
        proc.kill()
        raise
    return proc, url


def _score(url: str, df) -> httpx.Response:
    rows = df[FEATURES].head(3).values.tolist()
    return httpx.post(
        url + "/invocations", json={"dataframe_split": {"columns": FEATURES, "data": rows}}
    )


def test_the_image_entrypoint_serves_the_package_and_follows_aliases(workspace, tmp_path):
    df = registered(workspace, kinds=("good", "good"))
    rollout.promote(gateway_for(workspace), "churn", 1, "champion")
    out = package(gateway_for(workspace), "churn", 2, tmp_path / "pkg")
    cmd, env = _image_command((out / "Dockerfile").read_text())
    assert cmd == ["python", "-m", "jupyter_mlops.serving.entrypoint"]
    env.update(MLOPS_PACKAGE=str(out), MLOPS_WORKSPACE=str(tmp_path / "container"))
    for var in ("MLFLOW_TRACKING_URI", "MLOPS_MODEL"):
        os.environ.pop(var, None)

    # alone: the package's own version is the champion
    proc, url = _start(cmd, env, tmp_path)
    try:
        r = _score(url, df)
        assert r.status_code == 200, r.text
        assert r.headers["x-model-version"] == "2" and len(r.json()["predictions"]) == 3
    finally:
        proc.terminate()
        proc.wait(30)

    # a fleet replica: the registry's champion, then whatever is promoted
    env["MLFLOW_TRACKING_URI"] = workspace.tracking_uri
    proc, url = _start(cmd, env, tmp_path)
    try:
        assert _score(url, df).headers["x-model-version"] == "1"
        rollout.promote(gateway_for(workspace), "churn", 2, "champion")
        wait_until(
            lambda: _score(url, df).headers["x-model-version"] == "2",
            30,
            message="the entrypoint never served the promoted version",
        )
    finally:
        proc.terminate()
        proc.wait(30)
