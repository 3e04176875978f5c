"""Two dataset versions side by side: schema changes, and per column what changed in the data.

Works from what each version recorded (schema, profile and per-column digests, as logged on its
MLflow input), so neither snapshot is loaded; a DataFrame in memory can stand in for a version.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .versions import resolve

if TYPE_CHECKING:
    from ..store.gateway import Gateway

STATS = ("nulls", "min", "max", "mean", "std", "unique")


@dataclass
class DatasetSide:
    label: str
    digest: str
    schema: dict[str, Any]
    profile: dict[str, Any]

    @property
    def columns(self) -> dict[str, dict[str, Any]]:
        return {c["name"]: c for c in self.schema.get("mlflow_colspec", [])}


@dataclass
class DatasetDiff:
    a: DatasetSide
    b: DatasetSide
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    retyped: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    nullability: dict[str, tuple[bool | None, bool | None]] = field(default_factory=dict)
    changed_data: list[str] = field(default_factory=list)
    rows: tuple[int | None, int | None] = (None, None)
    stats: dict[str, dict[str, tuple[Any, Any]]] = field(default_factory=dict)

    @property
    def identical(self) -> bool:
        return self.a.digest == self.b.digest


def side_from_frame(obj: Any, label: str) -> DatasetSide:
    from .fingerprint import fingerprint_frame
    from .profile import as_frame, profile_of, schema_of

    df = as_frame(obj, label)
    digest, columns = fingerprint_frame(df)
    return DatasetSide(label, digest, schema_of(df), profile_of(df, columns))


def side_from_store(gw: Gateway, ref: str) -> DatasetSide:
    v = resolve(gw, ref)
    schema: dict[str, Any] = {}
    profile: dict[str, Any] = {}
    if v.run_id:
        run = gw.client.get_run(v.run_id)
        for di in run.inputs.dataset_inputs if run.inputs else []:
            if di.dataset.digest == v.digest:
                schema = json.loads(di.dataset.schema or "{}")
                profile = json.loads(di.dataset.profile or "{}")
    return DatasetSide(v.ref, v.digest, schema, profile)


def diff_sides(a: DatasetSide, b: DatasetSide) -> DatasetDiff:
    diff = DatasetDiff(a, b, rows=(a.profile.get("num_rows"), b.profile.get("num_rows")))
    ca, cb = a.columns, b.columns
    diff.added = [c for c in cb if c not in ca]
    diff.removed = [c for c in ca if c not in cb]
    pa_, pb_ = a.profile.get("columns", {}), b.profile.get("columns", {})
    for col in (c for c in ca if c in cb):
        if ca[col].get("pandas_dtype") != cb[col].get("pandas_dtype"):
            diff.retyped[col] = (ca[col].get("pandas_dtype"), cb[col].get("pandas_dtype"))
        if ca[col].get("required") != cb[col].get("required"):
            diff.nullability[col] = (ca[col].get("required"), cb[col].get("required"))
        x, y = pa_.get(col, {}), pb_.get(col, {})
        if x.get("digest") and x.get("digest") != y.get("digest"):
            diff.changed_data.append(col)
        stats = {k: (x.get(k), y.get(k)) for k in STATS if x.get(k) != y.get(k)}
        if x.get("top") != y.get("top") and (x.get("top") or y.get("top")):
            stats["top"] = (_top(x.get("top")), _top(y.get("top")))
        if stats:
            diff.stats[col] = stats
    return diff


def _top(top: Any) -> str | None:
    if not top:
        return None
    return ", ".join(f"{k} ({n})" for k, n in top[:3])


def diff_datasets(gw: Gateway, a: Any, b: Any) -> DatasetDiff:
    """Diff two versions: each a dataset reference (str) or an in-memory DataFrame."""
    sides = [
        side_from_store(gw, x) if isinstance(x, str) else side_from_frame(x, label)
        for x, label in ((a, "a"), (b, "b"))
    ]
    return diff_sides(*sides)
