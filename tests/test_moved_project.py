"""A project folder moved with its .mlops/ keeps working: renamed, copied, or unpacked elsewhere.

The embedded store records absolute locations; opened from its new folder, they become that
folder's (store/relocation.py), so the model of a run logged before the move registers, loads
from the new folder, and a new run writes its artifacts there (never into the original)."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from release_support import fit_model, log_model_run, make_data

from jupyter_mlops.release import registration
from jupyter_mlops.store.client import client_for, experiment_id, forget_cached_clients
from jupyter_mlops.store.gateway import gateway_for
from jupyter_mlops.store.relocation import forget_checked
from jupyter_mlops.store.runs import summaries
from jupyter_mlops.workspace import Workspace

pytestmark = pytest.mark.embedded_only


def _locations(db: Path) -> list[str]:
    with sqlite3.connect(db) as con:
        rows = con.execute("SELECT artifact_location FROM experiments").fetchall()
        rows += con.execute("SELECT artifact_uri FROM runs").fetchall()
        rows += con.execute("SELECT artifact_location FROM logged_models").fetchall()
    return [r[0] for r in rows]


def _moved(old: Path, new: Path, how: str, tmp_path: Path) -> None:
    if how == "renamed":
        old.rename(new)
    elif how == "copied":
        shutil.copytree(old, new)
    else:  # a colleague's archive, unpacked somewhere else
        archive = shutil.make_archive(str(tmp_path / "project"), "gztar", old.parent, old.name)
        shutil.rmtree(old)
        unpacked = tmp_path / "unpacked"
        shutil.unpack_archive(archive, unpacked)
        (unpacked / old.name).rename(new)


@pytest.mark.parametrize("how", ["renamed", "copied", "unpacked"])
def test_a_moved_project_registers_and_records_in_its_new_folder(
    workspace, tmp_path, monkeypatch, how
):
    df = make_data(200)
    run_id, _ = log_model_run(workspace, fit_model(df), df)
    old = workspace.root
    forget_cached_clients()
    new = tmp_path / f"elsewhere-{how}"
    monkeypatch.chdir(tmp_path)
    _moved(old, new, how, tmp_path)
    monkeypatch.chdir(new)
    forget_checked()
    moved = Workspace.find(new)
    gw = gateway_for(moved)

    mv = registration.register(
        gw, run_id, "churn"
    )  # refused before: "outside this workspace's store"
    assert registration.model_dir(gw, mv).is_relative_to(new.resolve())
    assert [r["run_id"] for r in summaries(gw)] == [run_id]
    new_root = (new / ".mlops" / "artifacts").resolve().as_uri()
    assert all(loc.startswith(new_root) for loc in _locations(new / ".mlops" / "mlflow.db"))
    client = client_for(moved)
    fresh = client.create_run(experiment_id(moved))
    client.log_text(fresh.info.run_id, "after the move", "note.txt")
    assert (
        Path(fresh.info.artifact_uri.removeprefix("file://")) / "note.txt"
    ).read_text() == "after the move"
    assert fresh.info.artifact_uri.startswith(new_root)
    if how == "copied":  # the original keeps its own locations and gets nothing of the copy
        old_root = (old / ".mlops" / "artifacts").resolve().as_uri()
        assert all(loc.startswith(old_root) for loc in _locations(old / ".mlops" / "mlflow.db"))
        assert not list((old / ".mlops" / "artifacts").rglob("note.txt"))
    else:
        assert not old.exists()
