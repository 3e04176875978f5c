"""Dataset versions on a real SQLite store: written once, loaded verified, refused when damaged."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from jupyter_mlops.datasets import versions as dataset_versions
from jupyter_mlops.datasets.api import forget_described, load_dataset, log_dataset
from jupyter_mlops.datasets.cell_inputs import describe, frames_read_by
from jupyter_mlops.datasets.fingerprint import fingerprint
from jupyter_mlops.errors import IntegrityError, InvalidInput, NotFound
from jupyter_mlops.store.client import client_for, experiment_id
from jupyter_mlops.store.gateway import gateway_for


@pytest.fixture(autouse=True)
def _fresh_memos():
    forget_described()
    dataset_versions.forget_known()
    yield
    forget_described()
    dataset_versions.forget_known()


def _frame(n: int = 50, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "k": rng.integers(0, 5, n),
            "s": pd.Series([f"w{i % 7}" for i in range(n)], dtype="str"),
            "c": pd.Categorical([["a", "b"][i % 2] for i in range(n)]),
        }
    )


def _dataset_runs(ws) -> list:
    return dataset_versions._search(gateway_for(ws), "")


def test_logging_twice_stores_once_and_loads_back_verified(workspace):
    df = _frame()
    v1 = log_dataset(df, name="iris", workspace=workspace)
    again = log_dataset(df.copy(), name="iris", workspace=workspace)
    assert again.digest == v1.digest == fingerprint(df)
    assert len(_dataset_runs(workspace)) == 1
    forget_described()
    dataset_versions.forget_known()
    assert log_dataset(df, name="iris", workspace=workspace).run_id == v1.run_id
    assert len(_dataset_runs(workspace)) == 1
    for ref in (
        "iris",
        "iris@1",
        "iris@latest",
        f"iris@{v1.digest[:8]}",
        v1.digest,
        v1.digest[:10],
    ):
        back = load_dataset(ref, workspace=workspace)
        assert fingerprint(back) == v1.digest, ref
        pd.testing.assert_frame_equal(back, df, check_dtype=False)


def test_versions_are_numbered_per_name_and_listed(workspace):
    a, b = _frame(seed=1), _frame(seed=2)
    log_dataset(a, name="train", workspace=workspace)
    log_dataset(b, name="train", workspace=workspace)
    log_dataset(a, name="other", workspace=workspace)
    versions = dataset_versions.list_versions(gateway_for(workspace), "train")
    assert [v.version for v in versions] == [1, 2]
    assert fingerprint(load_dataset("train@1", workspace=workspace)) == fingerprint(a)
    assert fingerprint(load_dataset("train", workspace=workspace)) == fingerprint(b)
    # an earlier version by its digest (what a model's lineage records), a later one existing
    first = dataset_versions.resolve(gateway_for(workspace), versions[0].digest[:12])
    assert (first.name, first.version) == ("train", 1)
    # the same data under another name shares the first snapshot instead of storing it again
    other = dataset_versions.resolve(gateway_for(workspace), "other")
    assert other.snapshot_run == versions[0].run_id
    assert fingerprint(load_dataset("other@1", workspace=workspace)) == fingerprint(a)


def test_a_teammate_without_the_local_cache_loads_from_the_store(workspace):
    df = _frame()
    v = log_dataset(df, name="shared", workspace=workspace)
    cached = dataset_versions.cache_path(dataset_versions.cache_folder(workspace), v.digest)
    cached.unlink()
    back = load_dataset("shared@1", workspace=workspace)
    assert fingerprint(back) == v.digest
    assert cached.exists()


def test_corrupted_or_truncated_snapshots_are_refused(workspace):
    df = _frame(200)
    v = log_dataset(df, name="fragile", workspace=workspace)
    path = dataset_versions.cache_path(dataset_versions.cache_folder(workspace), v.digest)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.unlink()  # break the hard link so the store's copy stays intact
    path.write_bytes(bytes(data))
    with pytest.raises(IntegrityError, match="corrupted"):
        load_dataset("fragile", workspace=workspace)
    path.unlink()
    good = load_dataset("fragile", workspace=workspace)  # fetched again from the store
    assert fingerprint(good) == v.digest
    path.unlink()
    path.write_bytes(good_bytes := bytes(data[: len(data) // 3]))
    assert len(good_bytes) < len(data)
    with pytest.raises(IntegrityError):
        load_dataset(v.digest, workspace=workspace)


def test_unknown_refs_and_bad_names_say_what_to_do(workspace):
    with pytest.raises(NotFound, match="no dataset named 'nope'") as info:
        load_dataset("nope", workspace=workspace)
    assert "%mlops datasets" in info.value.hint
    with pytest.raises(NotFound):
        load_dataset("0123456789abcdef0123456789abcdef", workspace=workspace)
    log_dataset(_frame(), name="one", workspace=workspace)
    with pytest.raises(NotFound, match="versions 1 to 1"):
        load_dataset("one@7", workspace=workspace)
    with pytest.raises(InvalidInput):
        log_dataset(_frame(), name="bad@name", workspace=workspace)
    with pytest.raises(InvalidInput):
        log_dataset({"not": "tabular"}, name="x", workspace=workspace)
    with pytest.raises(InvalidInput):
        log_dataset(_frame(), name="x", context="not a context!", workspace=workspace)


def test_logged_as_mlflow_dataset_input_of_a_run(workspace):
    client = client_for(workspace)
    run = client.create_run(experiment_id(workspace))
    df = _frame()
    v = log_dataset(df, name="train", context="training", run=run.info.run_id, workspace=workspace)
    got = client.get_run(run.info.run_id)
    (di,) = got.inputs.dataset_inputs
    assert di.dataset.digest == v.digest and di.dataset.name == "train"
    assert {t.key: t.value for t in di.tags}["mlflow.data.context"] == "training"
    schema = json.loads(di.dataset.schema)
    assert [c["name"] for c in schema["mlflow_colspec"]] == ["x", "k", "s", "c"]
    profile = json.loads(di.dataset.profile)
    assert profile["num_rows"] == 50 and "mean" in profile["columns"]["x"]
    assert json.loads(di.dataset.source)["uri"].startswith("runs:/")


def test_data_arrow_cannot_store_is_versioned_without_a_snapshot(workspace):
    df = pd.DataFrame({"m": [1, "a", 2.5]})
    v = log_dataset(df, name="mixed", workspace=workspace)
    assert v.digest == fingerprint(df)
    with pytest.raises(NotFound, match="without a snapshot"):
        load_dataset("mixed", workspace=workspace)


def test_cells_reading_files_record_the_file_and_its_hash(workspace):
    data = workspace.root / "data"
    data.mkdir()
    _frame().to_csv(data / "train.csv", index=False)
    ns: dict = {}
    source = (
        'import pandas as pd\ndf = pd.read_csv("data/train.csv")\ny = df["k"]\nout = df.x * 2\n'
    )
    exec(source, ns)
    found = frames_read_by("%%mlops track\n" + source, ns)
    assert [n for n, _ in found] == ["df"]  # y and out are results of the cell, not inputs
    item = describe(found[0][1], "df", "training")
    src = json.loads(item.source)
    assert src["file"] == "data/train.csv" and len(src["file_hash"]) == 32
    assert item.digest == fingerprint(ns["df"]) and item.context == "training"
    later = frames_read_by("model_input = df[['x']]\nprint(y.mean())", ns)
    assert [n for n, _ in later] == ["df", "y"]
