"""The outbox route through a real Jupyter server: counts of queued and refused records."""

from __future__ import annotations

import pytest
from server_support import api, jp_root_dir, jp_server_config
from tornado.httpclient import HTTPClientError

from jupyter_mlops.journal.outbox import Outbox
from jupyter_mlops.journal.records import CreateRun, LogData
from jupyter_mlops.journal.replay import Replayer

__all__ = ["jp_root_dir", "jp_server_config"]  # fixtures, imported for pytest


async def test_counts_queued_and_refused_records_with_the_reason(jp_fetch, workspace):
    status, empty = await api(jp_fetch, "outbox")
    assert status == 200 and empty == {
        "pending": 0,
        "failed": 0,
        "journals": 0,
        "unreadable": 0,
        "refused": [],
    }
    box = Outbox.create(workspace)
    box.append("k1", CreateRun(name="queued"))
    box.append("k1", LogData(params={"p": "1"}))
    Replayer(workspace, box).flush()
    box.append("k1", LogData(params={"p": "2"}))  # refused: a param cannot change
    Replayer(workspace, box).flush()
    box.append("k1", LogData(metrics=[("m", 1.0, 1, 0)]))  # queued, not flushed
    status, state = await api(jp_fetch, "outbox")
    assert status == 200
    assert (state["pending"], state["failed"], state["journals"]) == (1, 1, 1)
    [refused] = state["refused"]
    assert refused["kind"] == "data" and "p" in refused["error"]


async def test_requires_credentials(jp_fetch, workspace):
    with pytest.raises(HTTPClientError) as err:
        await jp_fetch("jupyter-mlops", "api", "outbox", headers={"Authorization": ""})
    assert err.value.code in (401, 403)
