"""Registering the same DataFrame from several processes at once gives one dataset version,
even when the server is slow between the search for the version and its creation."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import pytest

from jupyter_mlops.datasets.versions import list_versions
from jupyter_mlops.store.gateway import gateway_for


@pytest.mark.slow
def test_concurrent_registrations_of_one_frame_make_one_version(workspace):
    go = workspace.root / "go"
    script = textwrap.dedent(
        f"""
        import pathlib, time
        import pandas as pd
        from jupyter_mlops.datasets import versions
        from jupyter_mlops.datasets.api import log_dataset
        from jupyter_mlops.store.client import client_for
        from jupyter_mlops.workspace import Workspace
        ws = Workspace.find({str(workspace.root)!r})
        client_for(ws)  # imports done before the start signal
        search = versions.find_by_digest
        def slow_search(*args, **kwargs):  # a slow server: a wide gap between search and create
            found = search(*args, **kwargs)
            time.sleep(0.5)
            return found
        versions.find_by_digest = slow_search
        df = pd.DataFrame({{"a": range(100), "b": [x * 0.5 for x in range(100)]}})
        while not pathlib.Path({str(go)!r}).exists():
            time.sleep(0.01)
        print(log_dataset(df, name="same", workspace=ws).digest)
        """
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=workspace.root,
        )
        for _ in range(6)
    ]
    time.sleep(8)  # most of them are waiting at the start line by now
    go.touch()
    outputs = [p.communicate(timeout=300) for p in procs]
    for proc, (_out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err[-2000:]
    assert len({out.strip() for out, _ in outputs}) == 1
    versions = list_versions(gateway_for(workspace), "same")
    assert len(versions) == 1, [v.run_id for v in versions]
