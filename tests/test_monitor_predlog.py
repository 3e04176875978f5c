"""The prediction log: buffered appends, atomic files, time windows, corrupted input counted."""

from __future__ import annotations

import json
import time

import pyarrow as pa
from monitor_support import stream
from waiting import wait_until

from jupyter_mlops.monitor.predlog import (
    PredictionLog,
    predictions_dir,
    read_predictions,
    scan_predictions,
)
from jupyter_mlops.store.gateway import gateway_for


def test_append_flush_and_read_back(workspace):
    t0 = time.time() - 100
    with PredictionLog(gateway_for(workspace), "churn", flush_interval=60) as log:
        for rec in stream(20, t0=t0, batch=3):
            log.append(rec)
        assert list(predictions_dir(workspace, "churn").glob("*.arrow")) == []  # still buffered
    files = list(predictions_dir(workspace, "churn").iterdir())
    assert len(files) == 1 and files[0].suffix == ".arrow"
    table = read_predictions(gateway_for(workspace), "churn")
    assert table.num_rows == 60  # one row per predicted row
    assert {"in.age", "in.income", "in.city", "out", "latency_ms", "status"} <= set(
        table.column_names
    )
    assert table["in.city"].type == pa.string() and table["in.age"].type == pa.float64()
    first_rows = table.filter(pa.compute.equal(table["row"], 0))
    assert first_rows.num_rows == 20
    assert table.schema.metadata[b"corrupted_files"] == b"0"


def test_background_thread_flushes_without_close(workspace):
    log = PredictionLog(gateway_for(workspace), "churn", flush_interval=0.05)
    try:
        log.append(stream(1, t0=time.time())[0])
        wait_until(
            lambda: list(predictions_dir(workspace, "churn").glob("*.arrow")),
            timeout=5,
            interval=0.02,
            message="the writer thread never flushed",
        )
        assert not list(predictions_dir(workspace, "churn").glob(".tmp-*"))
    finally:
        log.close()


def test_time_window_and_odd_records(workspace):
    t0 = 1_700_000_000.0
    with PredictionLog(gateway_for(workspace), "churn", flush_interval=60) as log:
        for rec in stream(10, t0=t0, dt=1.0, batch=1):
            log.append(rec)
        log.flush()
        for rec in stream(10, t0=t0 + 100, dt=1.0, batch=1):
            log.append(rec)
        log.append({"ts": t0 + 5, "status": 400, "inputs": "not a table", "error": "bad json"})
        log.append({"status": 200})  # no timestamp: unusable
        log.append("garbage")
        log.append({"ts": t0 + 6, "status": 200, "inputs": [{"age": 1, "x": "y"}], "outputs": 3})
    assert log.stats["bad_records"] == 2
    window = read_predictions(gateway_for(workspace), "churn", since=t0 + 100, until=t0 + 105)
    assert window.num_rows == 5
    early = read_predictions(gateway_for(workspace), "churn", until=t0 + 50)
    assert early.num_rows == 12
    assert "in.x" in early.column_names


def test_corrupted_files_and_lines_are_skipped_and_counted(workspace):
    t0 = time.time()
    with PredictionLog(gateway_for(workspace), "churn") as log:
        for rec in stream(5, t0=t0, batch=2):
            log.append(rec)
    folder = predictions_dir(workspace, "churn")
    (folder / "1-99999999999999-1-1.arrow").write_bytes(b"ARROW1 but truncated")
    good = json.dumps({"ts": t0, "status": 200, "inputs": {"age": 30}})
    (folder / "x.jsonl").write_text(good + '\n{not json\n\n{"no_ts": 1}\n')
    (folder / ".tmp-12-13-1-1.arrow").write_bytes(b"half written")  # ignored: not committed
    scan = scan_predictions(gateway_for(workspace), "churn")
    assert scan.corrupted_files == ["1-99999999999999-1-1.arrow"]
    assert scan.corrupted_records == 2
    assert scan.table.num_rows == 11
    assert any("unreadable" in p for p in scan.problems)


def test_type_conflicts_across_files_become_text(workspace):
    t0 = time.time()
    with PredictionLog(gateway_for(workspace), "m") as log:
        log.append({"ts": t0, "status": 200, "inputs": {"a": [1, 2]}})
        log.flush()
        log.append({"ts": t0 + 1, "status": 200, "inputs": {"a": ["x"]}})
    table = read_predictions(gateway_for(workspace), "m")
    assert table.num_rows == 3
    assert table["in.a"].to_pylist() == ["1", "2", "x"]


def test_model_names_map_to_safe_distinct_folders(workspace):
    a = predictions_dir(workspace, "../evil")
    b = predictions_dir(workspace, "__evil")
    assert a != b and workspace.contains(a) and ".." not in a.name


def test_a_large_batch_is_converted_in_slices_into_one_file(workspace, monkeypatch):
    from jupyter_mlops.monitor import predlog_writer

    monkeypatch.setattr(predlog_writer, "CONVERT_SLICE", 7)
    t0 = time.time()
    records = stream(30, t0=t0, batch=2)
    records[10]["inputs"] = {"age": ["forty"], "extra": [1]}  # a type conflict mid-batch
    records.append("garbage")
    with PredictionLog(gateway_for(workspace), "churn", flush_interval=60) as log:
        for rec in records:
            log.append(rec)
    assert log.stats["files"] == 1 and log.stats["bad_records"] == 1
    table = read_predictions(gateway_for(workspace), "churn")
    assert table.num_rows == 59  # record 10 has one row
    assert table["in.age"].num_chunks == 1 and table["in.age"].type == pa.string()
    assert table["in.extra"].null_count == 58
    assert table["request_id"].to_pylist()[::2][:3] == ["r1-0", "r1-1", "r1-2"]  # order kept
