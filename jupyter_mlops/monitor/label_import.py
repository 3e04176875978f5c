"""``monitor labels MODEL FILE`` and ``POST monitor/{model}/labels``: late labels in.

Read (``labels.read_label_file``), kept and shipped (``labels.store_labels``, ``ship_labels``),
then joined to the prediction log of the last ``monitor.log.max_age`` (where the logs still are)
to say how many met their prediction and what quality they show per version.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from ..errors import InvalidInput, NotFound
from ..store.gateway import Gateway
from .labels import (
    AT_COLUMN,
    ID_COLUMN,
    LABEL_COLUMN,
    ROW_COLUMN,
    LabelImport,
    read_label_file,
    ship_labels,
    store_labels,
)
from .predlog import scan_predictions
from .predlog_format import predictions_dir
from .quality import by_version, joined_frame, task_of
from .thresholds import load_monitor_config

MAX_LABELS_PER_REQUEST = 1_000_000  # rows one REST call may carry


def labels_from_records(records: Any) -> Any:
    """The labels of a REST body (``[{"request_id": ..., "label": ..., "row": ...}]``) as a
    table like a file's; InvalidInput naming the first bad record."""
    import pyarrow as pa

    if not isinstance(records, list) or not records:
        raise InvalidInput("labels must be a non-empty list of {request_id, label[, row]} objects")
    if len(records) > MAX_LABELS_PER_REQUEST:
        raise InvalidInput(f"at most {MAX_LABELS_PER_REQUEST} labels per request")
    ids, rows, labels = [], [], []
    for i, rec in enumerate(records):
        if (
            not isinstance(rec, dict)
            or rec.get(ID_COLUMN) in (None, "")
            or rec.get(LABEL_COLUMN) is None
        ):
            raise InvalidInput(f"labels[{i}] needs a request_id and a label")
        unknown = set(rec) - {ID_COLUMN, LABEL_COLUMN, ROW_COLUMN}
        if unknown:
            raise InvalidInput(f"labels[{i}] has unknown key {sorted(unknown)[0]!r}")
        row = rec.get(ROW_COLUMN)
        if row is not None and (isinstance(row, bool) or not isinstance(row, int) or row < 0):
            raise InvalidInput(f"labels[{i}].row must be a whole number >= 0")
        label = rec[LABEL_COLUMN]
        if not isinstance(label, (str, int, float, bool)):
            raise InvalidInput(f"labels[{i}].label must be a number, text or a boolean")
        ids.append(str(rec[ID_COLUMN]))
        rows.append(row)
        labels.append(label)
    try:
        label_array = pa.array(labels)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        label_array = pa.array([str(v) for v in labels])
    return pa.table(
        {
            ID_COLUMN: pa.array(ids, pa.string()),
            ROW_COLUMN: pa.array(rows, pa.int32()),
            LABEL_COLUMN: label_array,
        }
    )


def import_labels(
    gw: Gateway,
    model: str,
    source: Path | Any,
    *,
    id_column: str = ID_COLUMN,
    label_column: str = LABEL_COLUMN,
    row_column: str = ROW_COLUMN,
    source_name: str | None = None,
) -> LabelImport:
    """Keep the labels of ``source`` (a CSV or Parquet path, or a table from
    ``labels_from_records``) for ``model`` and join them to its prediction log."""
    _require_predictions_or_model(gw, model)
    if isinstance(source, Path):
        table, skipped = read_label_file(
            source, id_column=id_column, label_column=label_column, row_column=row_column
        )
        name = source_name or str(source)
    else:
        table, skipped, name = source, 0, source_name or "the request"
    done = LabelImport(model, name, rows=table.num_rows, skipped=skipped)
    if table.num_rows == 0:
        raise InvalidInput(f"{name}: no labels (every row lacks a request id or a label)")
    stored = store_labels(gw, model, table)
    done.file = stored.name if stored is not None else None
    if not gw.ws.is_embedded:
        try:
            ship_labels(gw, model)
            done.shipped = True
        except Exception as exc:  # kept locally: the next import ships it
            done.problems.append(f"labels kept here, not shipped yet: {type(exc).__name__}: {exc}")
    _match(gw, model, table, done)
    return done


def _require_predictions_or_model(gw: Gateway, model: str) -> None:
    folder = predictions_dir(gw.ws, model)
    if folder.is_dir() and any(folder.iterdir()):
        return
    from mlflow.exceptions import MlflowException

    try:
        gw.client.get_registered_model(model)
    except MlflowException:
        raise NotFound(
            f"no registered model {model!r}, and no predictions logged for it",
            hint="labels are joined to a served model's prediction log",
        ) from None


def _match(gw: Gateway, model: str, table: Any, done: LabelImport) -> None:
    """How many of these labels meet a logged prediction, and their quality per version."""
    cfg = load_monitor_config(gw.ws)
    until = time.time()
    scan = scan_predictions(gw, model, since=until - cfg.log.max_age, until=until + 1)
    done.problems.extend(scan.problems)
    labels = table.to_pandas()
    labels[ROW_COLUMN] = labels[ROW_COLUMN].astype("Int64")
    labels[AT_COLUMN] = until
    labels = labels.drop_duplicates([ID_COLUMN, ROW_COLUMN], keep="last")
    frame = joined_frame(scan.table, labels, cfg.quality)
    met = frame[[ID_COLUMN, "label_row"]].drop_duplicates()  # the labels that met a prediction
    done.matched = len(met)
    done.unmatched = len(labels) - done.matched
    if not frame.empty:
        done.quality = by_version(frame, task_of(frame, cfg.quality), cfg.quality)
