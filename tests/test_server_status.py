"""``GET status``: the store in use and the journal's queued and failed records, read-only."""

from __future__ import annotations

import sqlite3

from server_support import RecordingAuthorizer, api, jp_root_dir, jp_server_config  # noqa: F401

from jupyter_mlops.journal.outbox import SCHEMA
from jupyter_mlops.journal.sync import outbox_counts
from jupyter_mlops.server.status import display_uri


def journal(ws, name: str, pending: int, failed: int) -> None:
    folder = ws.state_dir / "outbox"
    folder.mkdir(exist_ok=True)
    con = sqlite3.connect(folder / f"{name}.db")
    con.executescript(SCHEMA)
    for i in range(pending):
        con.execute(
            "INSERT INTO ops (run_key, kind, payload, created) VALUES (?, 'metric', '{}', 0)",
            (f"k{i}",),
        )
    for i in range(failed):
        con.execute("INSERT INTO failed_ops (run_key, kind, payload) VALUES (?, 'x', '{}')", (i,))
    con.commit()
    con.close()


async def test_status_counts_every_journal(jp_fetch, workspace):
    code, empty = await api(jp_fetch, "status")
    assert code == 200
    assert empty["store"]["kind"] == "embedded" and empty["store"]["uri"].startswith("sqlite:///")
    assert empty["journal"] == {"journals": 0, "pending": 0, "failed": 0, "unreadable": 0}
    assert not (workspace.state_dir / "outbox").exists(), "a read must not create the journal"

    journal(workspace, "111-a", pending=3, failed=1)
    journal(workspace, "222-b", pending=2, failed=0)
    (workspace.state_dir / "outbox" / "333-c.db").write_bytes(b"not a database at all" * 100)
    code, answer = await api(jp_fetch, "status")
    assert answer["journal"] == {"journals": 3, "pending": 5, "failed": 1, "unreadable": 1}
    assert ("read", "jupyter_mlops:status") in RecordingAuthorizer.asked


def test_counts_are_read_only(workspace):
    journal(workspace, "444-d", pending=1, failed=0)
    path = workspace.state_dir / "outbox" / "444-d.db"
    before = path.stat().st_mtime_ns
    assert outbox_counts(workspace).pending == 1
    assert path.stat().st_mtime_ns == before


def test_the_uri_shown_hides_passwords():
    assert display_uri("postgresql://ann:secret@db:5432/mlflow") == (
        "postgresql://ann:***@db:5432/mlflow"
    )
    assert display_uri("http://127.0.0.1:5000") == "http://127.0.0.1:5000"
