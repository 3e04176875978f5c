"""Durable writes: synced before and after the rename, never trusting a cut-short file, and
restores from the build cache verified against their digests."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from jupyter_mlops.datasets.fingerprint import fingerprint
from jupyter_mlops.datasets.snapshots import read_snapshot, write_snapshot
from jupyter_mlops.errors import IntegrityError
from jupyter_mlops.pipeline import files
from jupyter_mlops.pipeline.cache import CacheIndex
from jupyter_mlops.workspace import Workspace


@pytest.fixture
def synced(monkeypatch):
    """Every path or descriptor os.fsync is called on (the real fsync still runs)."""
    seen: list[str] = []
    real = os.fsync

    def spy(fd):
        seen.append(os.readlink(f"/proc/self/fd/{fd}") if os.path.exists("/proc/self/fd") else "?")
        return real(fd)

    monkeypatch.setattr(os, "fsync", spy)
    return seen


def test_atomic_write_syncs_the_file_and_its_folder(tmp_path, synced):
    target = tmp_path / "sub" / "entry.json"
    files.write_atomic(target, b"{}")
    assert target.read_bytes() == b"{}"
    assert str(tmp_path / "sub") in synced  # the folder, after the rename
    assert any(".entry.json." in p for p in synced)  # the file, before it
    assert not [p for p in (tmp_path / "sub").iterdir() if p.name.endswith(".tmp")]


def test_snapshot_is_synced_and_a_cut_short_one_is_written_again(tmp_path, synced):
    df = pd.DataFrame({"a": np.arange(50_000), "b": np.random.default_rng(0).random(50_000)})
    digest = fingerprint(df)
    first = write_snapshot(tmp_path, df, digest)
    assert str(tmp_path) in synced
    os.truncate(first.path, first.size // 2)  # what a crash without fsync can leave behind

    again = write_snapshot(tmp_path, df, digest)
    assert again.size == first.size and again.file_hash == first.file_hash
    pd.testing.assert_frame_equal(read_snapshot(again.path, digest, again.file_hash), df)


def _cached_output(tmp_path):
    ws = Workspace(tmp_path)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "model.bin").write_bytes(b"weights" * 1000)
    cache = CacheIndex(ws)
    outputs, missing = cache.store_outputs(["out/model.bin"])
    assert not missing
    digest = outputs["out/model.bin"]
    return ws, cache, {"outputs": outputs}, cache._object(digest)


def test_restore_refuses_a_damaged_cached_copy(tmp_path):
    ws, cache, entry, obj = _cached_output(tmp_path)
    (tmp_path / "out" / "model.bin").unlink()
    obj.write_bytes(b"weightz" * 1000)  # same size, other bytes

    with pytest.raises(IntegrityError, match="out/model.bin"):
        cache.restore_outputs(entry)
    assert not (tmp_path / "out" / "model.bin").exists()  # nothing wrong put in place
    assert not obj.exists()  # and the damaged copy is gone


def test_planning_sees_a_damaged_copy_so_the_step_runs_again(tmp_path):
    ws, cache, entry, obj = _cached_output(tmp_path)
    (tmp_path / "out" / "model.bin").unlink()
    assert cache.outputs_restorable(entry) is None
    obj.write_bytes(obj.read_bytes()[:-1])

    reason = cache.outputs_restorable(entry)
    assert reason is not None and "damaged" in reason
