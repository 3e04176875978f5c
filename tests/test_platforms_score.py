"""`score`: batch predictions over Parquet and CSV, locally and on a 2-worker Dask cluster; every
prediction is in the prediction log with the version that made it, so `monitor` reads it."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest
from release_support import FEATURES, make_data, registered

from jupyter_mlops.errors import InvalidInput, NotFound
from jupyter_mlops.monitor.predlog_reader import scan_predictions
from jupyter_mlops.monitor.report import build_report
from jupyter_mlops.platforms.score import score
from jupyter_mlops.release import rollout
from jupyter_mlops.release.registration import model_dir, resolve
from jupyter_mlops.store.gateway import gateway_for


@pytest.fixture
def churn(workspace):
    registered(workspace)  # v1 good, v2 good
    rollout.promote(gateway_for(workspace), "churn", 1, "champion")
    rollout.promote(gateway_for(workspace), "churn", 2, "staging")
    return workspace


def expected(ws, version: int, frame: pd.DataFrame):
    import mlflow.pyfunc

    model = mlflow.pyfunc.load_model(
        str(model_dir(gateway_for(ws), resolve(gateway_for(ws), f"churn/{version}")))
    )
    return model.predict(frame[FEATURES])


def test_local_scoring_in_batches_is_logged_like_traffic(churn, tmp_path):
    data = make_data(2500, seed=5)[FEATURES]
    data.to_parquet(tmp_path / "in.parquet", index=False)
    result = score(
        gateway_for(churn), "churn@champion", tmp_path / "in.parquet", tmp_path / "out.csv",
        batch_rows=1000,
    )  # fmt: skip
    assert (result.rows, result.target.version, result.target.alias) == (2500, "1", "champion")
    out = pd.read_csv(tmp_path / "out.csv")
    assert list(out.columns) == [*FEATURES, "prediction"]
    assert out["prediction"].tolist() == expected(churn, 1, data).tolist()
    log = scan_predictions(gateway_for(churn), "churn").table.to_pandas()
    assert len(log) == 2500 and log["request_id"].nunique() == 3  # one segment per batch
    assert set(log["version"]) == {"1"} and set(log["alias"]) == {"champion"}
    assert log.sort_values(["request_id", "row"])["out"].tolist() == out["prediction"].tolist()
    assert log["in.income"].sum() == pytest.approx(data["income"].sum())
    # monitoring reads batch scoring as it reads a router's traffic
    report = build_report(gateway_for(churn), "churn", window=3600, record=False)
    assert (report.health["1"].requests, report.health["1"].rows) == (3, 2500)
    assert report.live_rows == 2500


def test_dask_maps_partitions_and_every_worker_logs_its_own(churn, tmp_path):
    data = make_data(3000, seed=6)[FEATURES]
    data.to_csv(tmp_path / "in.csv", index=False)
    result = score(
        gateway_for(churn), "churn@staging", tmp_path / "in.csv", tmp_path / "out.parquet",
        engine="dask", workers=2,
    )  # fmt: skip
    assert result.rows == 3000
    parts = sorted((tmp_path / "out.parquet").glob("part-*.parquet"))
    assert parts  # written by the workers, one file a partition
    out = pd.read_parquet(tmp_path / "out.parquet")
    assert out["prediction"].tolist() == expected(churn, 2, data).tolist()
    log = scan_predictions(gateway_for(churn), "churn").table.to_pandas()
    assert len(log) == 3000 and set(log["version"]) == {"2"} and set(log["alias"]) == {"staging"}
    assert log["request_id"].nunique() == len(parts)  # each partition logged its segment


def test_bad_requests_and_spark_without_pyspark_are_one_line(churn, tmp_path):
    gw = gateway_for(churn)
    make_data(10)[FEATURES].to_csv(tmp_path / "in.csv", index=False)
    with pytest.raises(InvalidInput, match="not a Parquet or CSV"):
        score(gw, "churn@champion", tmp_path / "in.csv", tmp_path / "out.json")
    with pytest.raises(InvalidInput, match="no such file"):
        score(gw, "churn@champion", tmp_path / "missing.csv", tmp_path / "out.csv")
    with pytest.raises(NotFound, match="no alias 'canary'"):
        score(gw, "churn@canary", tmp_path / "in.csv", tmp_path / "out.csv")
    proc = subprocess.run(
        [sys.executable, "-m", "jupyter_mlops.cli", "score", "churn@champion",
         str(tmp_path / "in.csv"), str(tmp_path / "out.csv"), "--engine", "spark"],
        capture_output=True, text=True, cwd=churn.root, timeout=120,
    )  # fmt: skip
    # pyspark is not a dependency of the tests: the one line says what to install
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        "jupyter-mlops: error: the spark engine needs pyspark: pip install pyspark "
        "(and a Java runtime)"
    ]
