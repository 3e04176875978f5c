"""Late labels: the ground truth that arrives hours or days after the prediction.

``jupyter-mlops monitor labels MODEL FILE`` (and ``POST monitor/{model}/labels``) reads a CSV or
Parquet file with a request id and a label per row (and, for requests that predicted several
rows, the ``row`` index the router logged; a label without one applies to every row of its
request), checks it, and keeps it as one Arrow file in
``.mlops/labels/<model>/`` named by its time and content digest, so importing the same file
twice adds nothing. With a team server the file is also shipped beside the prediction logs (run
of experiment ``mlops-prediction-logs``, path ``labels/<model>/<file>``), so a teammate's monitor
and the canary guard of every replica read the same labels; reading takes the union, each file
once. A label given again for the same request (and row) replaces the earlier one.

The labels are joined to the prediction log by request id in ``quality.py``.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InvalidInput
from ..store.gateway import Gateway
from .predlog_format import model_folder_name
from .predlog_shipping import SHIPPED_DIR, bookkeeping_runs

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

LABELS_DIR = "labels"
CACHE_DIR = "labels-cache"
ARTIFACT_ROOT = "labels"
ID_COLUMN, LABEL_COLUMN, ROW_COLUMN, AT_COLUMN = "request_id", "label", "row", "labeled_at"
REMOTE_EVERY_S = 30.0  # the team server's label files are listed at most this often per model
_SUFFIXES = {".csv": "csv", ".tsv": "csv", ".parquet": "parquet", ".pq": "parquet"}


@dataclass
class LabelImport:
    """What one import did: rows read, how many met a logged prediction, where they are kept."""

    model: str
    source: str
    rows: int = 0
    matched: int = 0  # labels whose request is in the prediction log (last monitor.log.max_age)
    unmatched: int = 0
    skipped: int = 0  # rows without a request id or a label
    file: str | None = None  # the stored file; None when the same labels were imported before
    shipped: bool = False  # on the team server (always False for the embedded store)
    quality: dict[str, Any] = field(default_factory=dict)  # per version, over the matched ones
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "source": self.source,
            "rows": self.rows,
            "matched": self.matched,
            "unmatched": self.unmatched,
            "skipped": self.skipped,
            "file": self.file,
            "shipped": self.shipped,
            "quality": self.quality,
            "problems": self.problems,
        }

    def to_text(self) -> str:
        kept = f"kept as {self.file}" if self.file else "already imported: nothing new kept"
        lines = [
            f"{self.rows} labels for {self.model} from {self.source}: {self.matched} matched a "
            f"logged prediction, {self.unmatched} did not; {kept}"
            + (" and shipped to the tracking server" if self.shipped else "")
        ]
        if self.skipped:
            lines.append(f"{self.skipped} rows skipped (no request id or no label)")
        for version, q in sorted(self.quality.items()):
            figures = ", ".join(f"{k} {v:.4g}" for k, v in q["metrics"].items())
            label = version if version == "all" else f"v{version}"
            lines.append(f"  {label:<6} {q['labeled']:>7} labeled  {figures}")
        lines += [f"! {p}" for p in self.problems]
        return "\n".join(lines)


def _columns_hint(table: pa.Table) -> str:
    names = ", ".join(table.column_names[:12])
    return names + (", ..." if len(table.column_names) > 12 else "")


def read_label_file(
    path: Path,
    *,
    id_column: str = ID_COLUMN,
    label_column: str = LABEL_COLUMN,
    row_column: str = ROW_COLUMN,
) -> tuple[pa.Table, int]:
    """(request_id, row, label) of a CSV or Parquet file, and how many rows had no id or label.
    Errors name the file and what is missing, with the columns it has."""
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = _SUFFIXES.get(path.suffix.lower()) or (
        "csv" if path.name.lower().endswith(".csv.gz") else None
    )
    if kind is None:
        raise InvalidInput(
            f"{path}: not a CSV or Parquet file", hint="labels come as .csv, .tsv or .parquet"
        )
    if not path.is_file():
        raise InvalidInput(f"{path}: no such file")
    table = _read_table(path, kind, id_column)
    for column, flag in ((id_column, "--id-column"), (label_column, "--label-column")):
        if column not in table.column_names:
            raise InvalidInput(
                f"{path}: no column {column!r} (its columns: {_columns_hint(table)})",
                hint=f"name the column with {flag}",
            )
    ids = table[id_column].cast(pa.string())
    labels = table[label_column]
    if row_column in table.column_names:
        try:
            rows = table[row_column].cast(pa.int32())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raise InvalidInput(
                f"{path}: column {row_column!r} must hold whole numbers (the predicted row)"
            ) from None
    else:
        rows = pa.nulls(table.num_rows, pa.int32())
    out = pa.table({ID_COLUMN: ids, ROW_COLUMN: rows, LABEL_COLUMN: labels})
    usable = pc.and_(pc.is_valid(out[ID_COLUMN]), pc.is_valid(out[LABEL_COLUMN]))
    kept = out.filter(usable)
    return kept, table.num_rows - kept.num_rows


def _read_table(path: Path, kind: str, id_column: str) -> pa.Table:
    import pyarrow as pa

    try:
        if kind == "parquet":
            import pyarrow.parquet as pq

            return pq.read_table(path)
        import pyarrow.csv as pacsv

        delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
        return pacsv.read_csv(
            path,
            parse_options=pacsv.ParseOptions(delimiter=delimiter),
            convert_options=pacsv.ConvertOptions(column_types={id_column: pa.string()}),
        )
    except (pa.ArrowInvalid, OSError) as exc:
        raise InvalidInput(f"{path}: cannot be read as {kind}: {exc}") from None


def labels_dir(gw: Gateway, model: str) -> Path:
    return gw.ws.subdir(LABELS_DIR) / model_folder_name(model)


def store_labels(gw: Gateway, model: str, table: pa.Table) -> Path | None:
    """Keep ``table`` (request_id, row, label) as a labels file; None if the same was kept."""
    import pyarrow as pa

    sink = pa.BufferOutputStream()
    with pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    digest = hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()[:16]
    folder = labels_dir(gw, model)
    folder.mkdir(parents=True, exist_ok=True)
    known = {p.name for p in _label_files(folder)} | {p.name for p in _remote_cached(gw, model)}
    if any(name.endswith(f"-{digest}.arrow") for name in known):
        return None
    stamped = table.append_column(AT_COLUMN, pa.array([time.time()] * table.num_rows, pa.float64()))
    path = folder / f"{int(time.time() * 1000)}-{digest}.arrow"
    tmp = folder / f".{path.name}.tmp"
    with pa.OSFile(str(tmp), "wb") as out, pa.ipc.new_file(out, stamped.schema) as writer:
        writer.write_table(stamped)
    os.replace(tmp, path)
    return path


def ship_labels(gw: Gateway, model: str) -> int:
    """Upload this folder's label files not shipped yet (team server only); how many went."""
    if gw.ws.is_embedded:
        return 0
    folder = labels_dir(gw, model)
    waiting = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix == ".arrow")
    if not waiting:
        return 0
    run_id = bookkeeping_runs(gw, model, create=True)[0]
    dest = f"{ARTIFACT_ROOT}/{model_folder_name(model)}"
    for path in waiting:
        gw.client.log_artifact(run_id, str(path), dest)
        (folder / SHIPPED_DIR).mkdir(exist_ok=True)
        os.replace(path, folder / SHIPPED_DIR / path.name)
    return len(waiting)


def _label_files(folder: Path) -> list[Path]:
    out: dict[str, Path] = {}
    for where in (folder, folder / SHIPPED_DIR):
        if where.is_dir():
            for p in sorted(where.iterdir()):
                if p.is_file() and p.suffix == ".arrow" and not p.name.startswith("."):
                    out.setdefault(p.name, p)
    return list(out.values())


_remote_checked: dict[tuple[str, str], float] = {}
_remote_guard = threading.Lock()


def _remote_cached(gw: Gateway, model: str) -> list[Path]:
    folder = gw.ws.state_dir / CACHE_DIR / model_folder_name(model)
    return _label_files(folder)


def fetch_remote_labels(gw: Gateway, model: str, *, force: bool = False) -> list[Path]:
    """Local copies of every label file shipped for ``model`` by anyone (team server), listed at
    most every ``REMOTE_EVERY_S`` unless ``force``; files never change, so each downloads once."""
    if gw.ws.is_embedded:
        return []
    cache = gw.ws.subdir(CACHE_DIR) / model_folder_name(model)
    cache.mkdir(exist_ok=True)
    key = (str(gw.ws.root), model)
    now = time.monotonic()
    with _remote_guard:
        fresh = now - _remote_checked.get(key, -REMOTE_EVERY_S) < REMOTE_EVERY_S
        if not fresh or force:
            _remote_checked[key] = now
    if fresh and not force:
        return _label_files(cache)
    own = {p.name for p in _label_files(labels_dir(gw, model))}
    base = f"{ARTIFACT_ROOT}/{model_folder_name(model)}"
    client = gw.client
    for run_id in bookkeeping_runs(gw, model):
        for item in client.list_artifacts(run_id, base):
            name = item.path.rsplit("/", 1)[-1]
            if item.is_dir or not name.endswith(".arrow") or name in own:
                continue
            local = cache / name
            if not local.exists():
                with tempfile.TemporaryDirectory(dir=cache) as tmp:
                    os.replace(client.download_artifacts(run_id, item.path, tmp), local)
    return _label_files(cache)


def load_labels(gw: Gateway, model: str) -> tuple[pd.DataFrame, list[str]]:
    """Every known label of ``model`` (request_id, row, label, labeled_at), the latest per
    request and row; and the problems met (an unreadable file, the server out of reach)."""
    import pandas as pd
    import pyarrow as pa

    problems: list[str] = []
    paths = _label_files(labels_dir(gw, model))
    try:
        paths += [
            p for p in fetch_remote_labels(gw, model) if p.name not in {q.name for q in paths}
        ]
    except Exception as exc:  # the local labels still count
        problems.append(f"shipped labels unreadable, local ones only: {type(exc).__name__}: {exc}")
    tables = []
    for path in paths:
        try:
            with pa.memory_map(str(path)) as source:
                tables.append(pa.ipc.open_file(source).read_all())
        except Exception:
            problems.append(f"unreadable labels file skipped: {path.name}")
    columns = [ID_COLUMN, ROW_COLUMN, LABEL_COLUMN, AT_COLUMN]
    if not tables:
        return pd.DataFrame(columns=columns), problems
    frame = _union(tables).to_pandas()
    frame[ROW_COLUMN] = frame[ROW_COLUMN].astype("Int64")
    frame = frame.sort_values(AT_COLUMN, kind="stable")
    frame = frame.drop_duplicates([ID_COLUMN, ROW_COLUMN], keep="last")
    return frame[columns].reset_index(drop=True), problems


def _union(tables: list[pa.Table]) -> pa.Table:
    """Concatenate label files whose label types differ (ints in one, text in another)."""
    import pyarrow as pa

    try:
        return pa.concat_tables(tables, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        cast = [
            t.set_column(
                t.column_names.index(LABEL_COLUMN), LABEL_COLUMN, t[LABEL_COLUMN].cast(pa.string())
            )
            for t in tables
        ]
        return pa.concat_tables(cast, promote_options="permissive")
