"""``score``: batch predictions of a registered version over a Parquet or CSV file, monitored
like online traffic.

- ``local``: the file in batches (Arrow's streaming readers), each predicted and written as it
  comes, so memory holds one batch.
- ``dask``: ``map_partitions`` over ``dask.dataframe``; each worker loads the model once, and
  writes its partitions' predictions (``OUTPUT`` is then a folder of part files) and their
  prediction-log segments itself (the workspace's folder: a local cluster, or workers that share
  it). ``scheduler`` joins a running cluster; otherwise a ``LocalCluster`` of ``workers``.
- ``spark``: MLflow's ``spark_udf`` over a Spark DataFrame when pyspark is installed.

Every prediction lands in the model's prediction log with the version (and alias) that made it,
one segment per batch or partition, so ``monitor`` and late labels see batch scoring as they see
a router's traffic; on a team server the segments are shipped there.
"""

from __future__ import annotations

import importlib.util
import logging
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InvalidInput, StoreUnavailable
from ..monitor.predlog import predictions_dir
from ..monitor.predlog_format import batch_table
from ..monitor.predlog_shipping import SegmentShipper
from ..monitor.predlog_writer import write_segment
from ..monitor.thresholds import load_monitor_config
from ..release.permissions import require
from ..release.registration import resolve
from ..release.signing import verified_files
from ..store.gateway import Gateway

ENGINES = ("local", "dask", "spark")
FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}
PREDICTION = "prediction"


@dataclass(frozen=True)
class ScoreTarget:
    """What one batch needs to score and log, picklable for Dask workers."""

    model: str
    version: str
    alias: str
    model_path: str
    log_folder: str
    run: str  # one id per scoring, the log's request ids are ``<run>-<batch>``


@dataclass
class ScoreResult:
    target: ScoreTarget
    engine: str
    rows: int
    seconds: float
    output: Path
    shipped: int = 0

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0

    def text(self) -> str:
        t = self.target
        return (
            f"scored {self.rows} rows with {t.model} v{t.version} ({t.alias or 'by number'}) "
            f"on {self.engine} in {self.seconds:.2f} s ({self.rows_per_second:,.0f} rows/s) "
            f"into {self.output}; every prediction is in the prediction log"
        )


_loaded: dict[str, Any] = {}  # model path -> pyfunc model, one load per process


def _model(path: str) -> Any:
    if path not in _loaded:
        import mlflow.pyfunc

        _loaded[path] = mlflow.pyfunc.load_model(path)
    return _loaded[path]


def file_format(path: Path, what: str) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InvalidInput(
            f"{what} {path}: not a Parquet or CSV file",
            hint="name it *.parquet or *.csv",
        )
    return fmt


def predict_batch(target: ScoreTarget, frame: Any, batch: str) -> Any:
    """Predictions of one batch (a pandas DataFrame), logged as one segment; returns them."""
    model = _model(target.model_path)  # loaded once per process, outside the batch's latency
    started = time.perf_counter()
    predictions = model.predict(frame)
    latency_ms = (time.perf_counter() - started) * 1000.0
    log_scored(target, frame, predictions, batch, latency_ms=latency_ms)
    return predictions


def _with_predictions(frame: Any, predictions: Any) -> Any:
    import numpy as np

    values = np.asarray(predictions)
    out = frame.copy()
    if values.ndim == 2 and values.shape[1] > 1:
        for j in range(values.shape[1]):
            out[f"{PREDICTION}_{j}"] = values[:, j]
    else:
        out[PREDICTION] = values.reshape(len(frame))
    return out


def _batches(path: Path, fmt: str, rows: int) -> Any:
    """Record batches of at most ``rows`` rows, streamed from the file."""
    if fmt == "parquet":
        import pyarrow.parquet as pq

        yield from pq.ParquetFile(path).iter_batches(batch_size=rows)
        return
    import pyarrow.csv as pcsv

    reader = pcsv.open_csv(path, read_options=pcsv.ReadOptions(block_size=max(rows * 64, 1 << 20)))
    yield from reader


def score_local(target: ScoreTarget, source: Path, output: Path, batch_rows: int) -> int:
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    fmt_in, fmt_out = file_format(source, "INPUT"), file_format(output, "OUTPUT")
    writer: Any = None
    rows = 0
    tmp = output.with_name(f".{output.name}.tmp")
    try:
        for i, batch in enumerate(_batches(source, fmt_in, batch_rows)):
            frame = batch.to_pandas()
            scored = pa.Table.from_pandas(
                _with_predictions(frame, predict_batch(target, frame, str(i))),
                preserve_index=False,
            )
            if writer is None:
                writer = (
                    pq.ParquetWriter(tmp, scored.schema)
                    if fmt_out == "parquet"
                    else pcsv.CSVWriter(tmp, scored.schema)
                )
            writer.write_table(scored)
            rows += scored.num_rows
    finally:
        if writer is not None:
            writer.close()
    if writer is None:
        raise InvalidInput(f"INPUT {source} holds no rows")
    tmp.replace(output)
    return rows


def score_dask(
    target: ScoreTarget,
    source: Path,
    output: Path,
    scheduler: str | None,
    workers: int,
) -> int:
    """Partitions scored, logged and written by the workers themselves (``OUTPUT`` becomes a
    folder of part files, as Dask and Spark write): the data never passes through here."""
    import dask.dataframe as dd
    from distributed import Client, LocalCluster

    fmt_in, fmt_out = file_format(source, "INPUT"), file_format(output, "OUTPUT")
    cluster = None
    if scheduler is None:
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            dashboard_address=None,
            processes=True,
            silence_logs=logging.ERROR,
        )
    try:
        client = Client(scheduler or cluster, timeout=30)
    except OSError as exc:
        raise StoreUnavailable(
            f"cannot reach the Dask scheduler at {scheduler}: {exc}",
            hint="start it with `dask scheduler`, or leave --scheduler out for a local cluster",
        ) from None
    with client:
        slots = max(1, sum(client.nthreads().values()))
        if fmt_in == "parquet":
            frame = dd.read_parquet(source)
        else:  # a few partitions per worker, so that all of them work
            frame = dd.read_csv(
                source, blocksize=max(1 << 16, source.stat().st_size // (slots * 3))
            )
        _clear_folder(output)
        counts = frame.map_partitions(
            _score_partition, target, str(output), fmt_out, meta=(None, "int64")
        )
        rows = int(counts.sum().compute())
        client.close()
    if cluster is not None:
        cluster.close()
    return rows


def _clear_folder(output: Path) -> None:
    """``output`` as an empty folder of part files (earlier parts of ours removed)."""
    if output.is_file():
        raise InvalidInput(f"OUTPUT {output}: a file is there; dask writes a folder of parts")
    output.mkdir(parents=True, exist_ok=True)
    for part in output.glob("part-*"):
        part.unlink()


def _score_partition(
    frame: Any, target: ScoreTarget, folder: str, fmt: str, partition_info: Any = None
) -> Any:
    import pandas as pd
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    if partition_info is None:  # dask's metadata pass: nothing to score
        return pd.Series([0], dtype="int64")
    number = partition_info["number"]
    if len(frame) == 0:
        return pd.Series([0], dtype="int64")
    scored = _with_predictions(frame, predict_batch(target, frame, f"p{number}"))
    table = pa.Table.from_pandas(scored, preserve_index=False)
    path = Path(folder) / f"part-{number:05d}.{'parquet' if fmt == 'parquet' else 'csv'}"
    tmp = path.with_name(f".{path.name}.tmp")
    if fmt == "parquet":
        pq.write_table(table, tmp)
    else:
        pcsv.write_csv(table, tmp)
    tmp.replace(path)
    return pd.Series([len(frame)], dtype="int64")


def score_spark(target: ScoreTarget, source: Path, output: Path, batch_rows: int) -> int:
    import mlflow.pyfunc
    import pyarrow.dataset as pads
    from pyspark.sql import SparkSession
    from pyspark.sql.functions import struct

    fmt_in, fmt_out = file_format(source, "INPUT"), file_format(output, "OUTPUT")
    spark = SparkSession.builder.appName(f"score {target.model}").getOrCreate()
    reader = spark.read
    frame = (
        reader.parquet(str(source))
        if fmt_in == "parquet"
        else reader.csv(str(source), header=True, inferSchema=True)
    )
    udf = mlflow.pyfunc.spark_udf(spark, target.model_path, env_manager="local")
    scored = frame.withColumn(PREDICTION, udf(struct(*frame.columns)))
    if fmt_out == "parquet":
        scored.write.mode("overwrite").parquet(str(output))
    else:
        scored.write.mode("overwrite").option("header", True).csv(str(output))
    # the log from what was written (a folder of parts): read back here, batch by batch
    rows = 0
    written = pads.dataset(str(output), format=fmt_out)  # Spark's _SUCCESS and .crc are skipped
    for i, batch in enumerate(written.to_batches(batch_size=batch_rows)):
        part = batch.to_pandas()
        log_scored(target, part.drop(columns=[PREDICTION]), part[PREDICTION], str(i))
        rows += len(part)
    return rows


def log_scored(
    target: ScoreTarget, frame: Any, predictions: Any, batch: str, latency_ms: float = 0.0
) -> None:
    """One batch's predictions as one segment of the prediction log."""
    import pyarrow as pa

    table = batch_table(
        pa.Table.from_pandas(frame, preserve_index=False),
        predictions,
        ts=time.time(),
        model=target.model,
        version=target.version,
        alias=target.alias,
        request_id=f"{target.run}-{batch}",
        latency_ms=latency_ms,
    )
    write_segment(Path(target.log_folder), table)


def _check_engine(engine: str) -> None:
    if engine not in ENGINES:
        raise InvalidInput(f"unknown engine {engine!r}", hint=f"one of: {', '.join(ENGINES)}")
    if engine == "spark" and importlib.util.find_spec("pyspark") is None:
        raise InvalidInput(
            "the spark engine needs pyspark: pip install pyspark (and a Java runtime)"
        )
    if engine == "dask" and importlib.util.find_spec("distributed") is None:
        raise InvalidInput("the dask engine needs dask: pip install 'jupyter-mlops[dask]'")


def score(
    gw: Gateway,
    ref: str,
    source: str | Path,
    output: str | Path,
    *,
    engine: str = "local",
    batch_rows: int = 100_000,
    scheduler: str | None = None,
    workers: int = 2,
) -> ScoreResult:
    """Score ``source`` with ``ref`` (``MODEL@ALIAS`` or ``MODEL/VERSION``) into ``output``."""
    _check_engine(engine)
    ws = gw.ws
    source, output = Path(source).resolve(), Path(output).resolve()
    if not source.is_file():
        raise InvalidInput(f"INPUT {source}: no such file")
    file_format(source, "INPUT")
    file_format(output, "OUTPUT")
    if batch_rows < 1:
        raise InvalidInput(f"--batch-rows must be at least 1, got {batch_rows}")
    mv = resolve(gw, ref)
    require(gw, mv.name, "READ", f"score with {mv.name}")
    # the files it loads are the checked ones, removed afterwards if downloaded
    with verified_files(gw, mv.name, mv.version) as checked:
        alias = ref.split("@", 1)[1] if "@" in ref else ""
        target = ScoreTarget(
            mv.name,
            str(mv.version),
            alias,
            str(checked.folder),  # only from the workspace's own store
            str(predictions_dir(ws, mv.name, create=True)),
            uuid.uuid4().hex[:12],
        )
        output.parent.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        if engine == "local":
            rows = score_local(target, source, output, batch_rows)
        elif engine == "dask":
            rows = score_dask(target, source, output, scheduler, workers)
        else:
            rows = score_spark(target, source, output, batch_rows)
    result = ScoreResult(target, engine, rows, time.perf_counter() - started, output)
    if not ws.is_embedded:  # the team's monitor reads shipped segments
        settings = load_monitor_config(ws).log
        result.shipped = SegmentShipper(gw, mv.name, max_age=settings.max_age).ship()
    return result
