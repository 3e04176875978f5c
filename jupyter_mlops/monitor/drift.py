"""Input and prediction drift: live traffic against a reference (the training dataset version).

The reference is summarised once (``ReferenceProfile``): per numeric feature a grid of up to
``GRID`` reference quantiles and the reference counts between them; per categorical feature its
category frequencies. Comparing a live window then costs one ``np.histogram`` per numeric feature
(a blocked sort, about 40 ms per million values, run on a small thread pool because numpy drops
the GIL) and one hash-based ``value_counts`` per categorical feature. No per-row Python.

Numeric features: population stability index (PSI) over reference deciles, and the two-sample
Kolmogorov-Smirnov statistic evaluated on the quantile grid (exact up to the reference mass
between two grid points, at most 1/GRID for continuous data) with its asymptotic p-value; values
outside the reference range count as "unseen". Categorical features: PSI over the reference
categories (plus one bucket for unseen ones) and Pearson's chi-square test; unseen categories are
counted and named. Missing values (nulls, NaN) are compared as rates.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np  # noqa: TID253 -- needed at import here

from .predlog_format import INPUT_PREFIX, OUTPUT_COLUMN

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

GRID = 1000
PSI_BINS = 10
EPS = 1e-4
MAX_REFERENCE_ROWS = 200_000


@dataclass
class DriftThresholds:
    """When a feature counts as drifted (any one condition is enough)."""

    psi: float = 0.2
    ks: float = 0.1
    missing_rate: float = 0.05  # live missing rate above the reference's by this much
    unseen_rate: float = 0.05  # share of live values never seen in training
    min_rows: int = 30  # fewer live rows than this: not judged


@dataclass
class FeatureDrift:
    feature: str
    kind: str  # numeric | categorical | skipped
    n_ref: int = 0
    n_live: int = 0
    psi: float | None = None
    ks: float | None = None
    ks_pvalue: float | None = None
    chi2: float | None = None
    chi2_pvalue: float | None = None
    missing_rate_ref: float = 0.0
    missing_rate_live: float = 0.0
    unseen_rate: float = 0.0
    unseen_values: list[str] = field(default_factory=list)
    drifted: bool = False
    reasons: list[str] = field(default_factory=list)
    note: str | None = None
    # for plots: bin labels (or edges) and the two distributions as proportions
    bins: list[Any] = field(default_factory=list, repr=False)
    ref_dist: list[float] = field(default_factory=list, repr=False)
    live_dist: list[float] = field(default_factory=list, repr=False)

    def to_dict(self, with_plot_data: bool = False) -> dict[str, Any]:
        out = asdict(self)
        if not with_plot_data:
            for key in ("bins", "ref_dist", "live_dist"):
                out.pop(key)
        return out


def psi(ref_counts: np.ndarray, live_counts: np.ndarray) -> float:
    """Population stability index of two count vectors over the same bins."""
    r = ref_counts / max(ref_counts.sum(), 1)
    live = live_counts / max(live_counts.sum(), 1)
    r, live = np.maximum(r, EPS), np.maximum(live, EPS)
    return float(np.sum((live - r) * np.log(live / r)))


def _ks_pvalue(d: float, n: int, m: int) -> float:
    from scipy.special import kolmogorov

    en = n * m / (n + m)
    return float(kolmogorov(math.sqrt(en) * d)) if en > 0 else 1.0


@dataclass
class _NumericRef:
    edges: np.ndarray  # -inf, grid..., +inf
    counts: np.ndarray  # reference counts per bin
    groups: np.ndarray  # PSI decile group of each bin
    lo: float
    hi: float
    n: int
    missing_rate: float


@dataclass
class _CategoricalRef:
    categories: list[str]
    index: dict[str, int]
    counts: np.ndarray
    n: int
    missing_rate: float


def _numeric_values(values: Any) -> tuple[np.ndarray, int, int]:
    """(finite float values, missing count, unparsable count) of an Arrow/pandas/numpy column."""
    import pyarrow as pa

    if isinstance(values, (pa.ChunkedArray, pa.Array)):
        if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
            import pandas as pd

            series = pd.Series(values.to_pandas())
            nonnull = int(series.notna().sum())
            arr = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)
            bad = nonnull - int(np.isfinite(arr).sum())
            arr = arr[np.isfinite(arr)]
            return arr, len(series) - nonnull, bad
        if pa.types.is_boolean(values.type):
            values = values.cast(pa.int8())
        arr = (
            values.to_numpy()
            if isinstance(values, pa.ChunkedArray)
            else values.to_numpy(zero_copy_only=False)
        )
    else:
        arr = np.asarray(values)
    arr = arr.astype(np.float64, copy=False)
    finite = np.isfinite(arr)
    n_finite = int(finite.sum())
    if n_finite != len(arr):
        arr = arr[finite]
    return arr, len(finite) - n_finite, 0


def _category_counts(values: Any) -> tuple[dict[str, int], int]:
    """(value -> count as text, missing count), hash-based (Arrow value_counts)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not isinstance(values, (pa.ChunkedArray, pa.Array)):
        values = pa.array(np.asarray(values, dtype=object), from_pandas=True)
    if pa.types.is_dictionary(values.type):
        values = values.cast(values.type.value_type)
    missing = values.null_count
    vc = pc.value_counts(values)
    keys = vc.field("values").to_pylist()
    counts = vc.field("counts").to_pylist()
    out: dict[str, int] = {}
    for k, c in zip(keys, counts, strict=True):
        if k is None:
            continue
        key = k if isinstance(k, str) else str(k)
        out[key] = out.get(key, 0) + int(c)
    return out, missing


def _is_numeric_column(values: Any) -> bool:
    import pyarrow as pa

    if isinstance(values, (pa.ChunkedArray, pa.Array)):
        t = values.type
        return bool(pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t))
    dtype = getattr(values, "dtype", None)
    if dtype is None:
        return False
    return getattr(dtype, "kind", "O") in "iuf"


class ReferenceProfile:
    """What the live traffic is compared with: per-feature bins and counts from the reference."""

    def __init__(self) -> None:
        self.features: dict[str, _NumericRef | _CategoricalRef] = {}
        self.skipped: dict[str, str] = {}
        self.n_rows = 0

    @classmethod
    def from_frame(
        cls, frame: pd.DataFrame | pa.Table | dict[str, Any], features: list[str] | None = None
    ) -> ReferenceProfile:
        import pyarrow as pa

        if isinstance(frame, dict):
            table = pa.table(frame)
        elif isinstance(frame, pa.Table):
            table = frame
        else:
            table = pa.Table.from_pandas(frame, preserve_index=False)
        if table.num_rows > MAX_REFERENCE_ROWS:  # quantiles of a uniform sample are as good
            rng = np.random.default_rng(0)
            table = table.take(np.sort(rng.choice(table.num_rows, MAX_REFERENCE_ROWS, False)))
        prof = cls()
        prof.n_rows = table.num_rows
        for name in features or table.column_names:
            if name not in table.column_names:
                prof.skipped[name] = "not in the reference data"
                continue
            prof.add(name, table[name])
        return prof

    def add(self, name: str, values: Any) -> None:
        import pyarrow as pa

        if isinstance(values, (pa.ChunkedArray, pa.Array)) and (
            pa.types.is_nested(values.type) or pa.types.is_binary(values.type)
        ):
            self.skipped[name] = f"values of type {values.type} are not compared"
            return
        n_total = len(values)
        if _is_numeric_column(values):
            arr, missing, _ = _numeric_values(values)
            if len(arr) == 0:
                self.skipped[name] = "no numeric values in the reference"
                return
            grid = np.unique(np.quantile(arr, np.linspace(0.0, 1.0, GRID + 1)))
            edges = np.concatenate(([-np.inf], grid, [np.inf]))
            counts, _ = np.histogram(arr, edges)
            before = np.concatenate(([0], np.cumsum(counts)[:-1])) / len(arr)
            groups = np.minimum((before * PSI_BINS + 1e-9).astype(int), PSI_BINS - 1)
            self.features[name] = _NumericRef(
                edges,
                counts,
                groups,
                float(grid[0]),
                float(grid[-1]),
                len(arr),
                missing / max(n_total, 1),
            )
        else:
            by_value, missing = _category_counts(values)
            cats = sorted(by_value, key=lambda k: -by_value[k])
            self.features[name] = _CategoricalRef(
                cats,
                {c: i for i, c in enumerate(cats)},
                np.array([by_value[c] for c in cats], dtype=np.int64),
                sum(by_value.values()),
                missing / max(n_total, 1),
            )

    # ---------------------------------------------------------------- comparisons

    def compare_values(
        self, name: str, values: Any, thresholds: DriftThresholds | None = None
    ) -> FeatureDrift:
        th = thresholds or DriftThresholds()
        ref = self.features.get(name)
        if ref is None:
            return FeatureDrift(name, "skipped", note=self.skipped.get(name, "no reference"))
        if isinstance(ref, _NumericRef):
            res = _compare_numeric(name, ref, values)
        else:
            res = _compare_categorical(name, ref, values)
        _judge(res, th)
        return res

    def compare(
        self,
        live: pa.Table,
        thresholds: DriftThresholds | None = None,
        *,
        prefix: str = INPUT_PREFIX,
        workers: int = 2,
    ) -> dict[str, FeatureDrift]:
        """Drift of every reference feature found in ``live`` (columns ``prefix + name``)."""
        names = list(self.features) + [n for n in self.skipped if n not in self.features]
        cols = set(live.column_names)

        def one(name: str) -> FeatureDrift:
            col = prefix + name
            if col not in cols:
                return FeatureDrift(
                    name,
                    self._kind(name),
                    n_ref=self._n(name),
                    note="missing from live traffic",
                    drifted=True,
                    reasons=["feature missing from live traffic"],
                )
            return self.compare_values(name, live[col], thresholds)

        if workers > 1 and len(names) > 1:
            with ThreadPoolExecutor(workers) as pool:
                results = list(pool.map(one, names))
        else:
            results = [one(n) for n in names]
        return {r.feature: r for r in results}

    def _kind(self, name: str) -> str:
        ref = self.features.get(name)
        return "numeric" if isinstance(ref, _NumericRef) else "categorical" if ref else "skipped"

    def _n(self, name: str) -> int:
        ref = self.features.get(name)
        return ref.n if ref else 0


def _compare_numeric(name: str, ref: _NumericRef, values: Any) -> FeatureDrift:
    arr, missing, unparsable = _numeric_values(values)
    n_total = len(arr) + missing + unparsable
    res = FeatureDrift(name, "numeric", n_ref=ref.n, n_live=len(arr))
    res.missing_rate_ref = ref.missing_rate
    res.missing_rate_live = (missing + unparsable) / n_total if n_total else 0.0
    if unparsable:
        res.note = f"{unparsable} non-numeric value(s) in live traffic"
    if len(arr) == 0:
        return res
    counts, _ = np.histogram(arr, ref.edges)
    cdf_ref = np.cumsum(ref.counts) / ref.n
    cdf_live = np.cumsum(counts) / len(arr)
    # values at each grid point from the left (bins are [a, b)), the exact ECDFs there
    d = float(np.max(np.abs(cdf_ref[:-1] - cdf_live[:-1]))) if len(counts) > 1 else 0.0
    res.ks = d
    res.ks_pvalue = _ks_pvalue(d, ref.n, len(arr))
    ref_g = np.bincount(ref.groups, weights=ref.counts, minlength=PSI_BINS)
    live_g = np.bincount(ref.groups, weights=counts, minlength=PSI_BINS)
    res.psi = psi(ref_g, live_g)
    res.unseen_rate = float(np.sum(arr < ref.lo) + np.sum(arr > ref.hi)) / len(arr)
    # plot data: the PSI deciles as bins
    bounds = [float(ref.edges[np.argmax(ref.groups >= g)]) for g in range(PSI_BINS)]
    res.bins = bounds
    res.ref_dist = (ref_g / max(ref_g.sum(), 1)).tolist()
    res.live_dist = (live_g / max(live_g.sum(), 1)).tolist()
    return res


def _compare_categorical(name: str, ref: _CategoricalRef, values: Any) -> FeatureDrift:
    from scipy.special import chdtrc  # chi-square survival; scipy.stats costs 0.5 s to import

    counts, missing = _category_counts(values)
    n_live = sum(counts.values())
    res = FeatureDrift(name, "categorical", n_ref=ref.n, n_live=n_live)
    res.missing_rate_ref = ref.missing_rate
    res.missing_rate_live = missing / (n_live + missing) if n_live + missing else 0.0
    if n_live == 0:
        return res
    live = np.zeros(len(ref.categories) + 1, dtype=np.float64)
    unseen: dict[str, int] = {}
    for key, c in counts.items():
        i = ref.index.get(key)
        if i is None:
            unseen[key] = c
            live[-1] += c
        else:
            live[i] += c
    refc = np.concatenate((ref.counts.astype(np.float64), [0.0]))
    res.psi = psi(refc, live)
    expected = np.maximum(refc / max(ref.n, 1), EPS) * n_live
    stat = float(np.sum((live - expected) ** 2 / expected))
    res.chi2 = stat
    res.chi2_pvalue = float(chdtrc(max(len(live) - 1, 1), stat))
    res.unseen_rate = live[-1] / n_live
    res.unseen_values = sorted(unseen, key=lambda k: -unseen[k])[:5]
    top = list(range(min(len(ref.categories), 12)))
    res.bins = [ref.categories[i] for i in top] + ["(unseen)"]
    res.ref_dist = [float(refc[i] / max(ref.n, 1)) for i in top] + [0.0]
    res.live_dist = [float(live[i] / n_live) for i in top] + [float(res.unseen_rate)]
    return res


def _judge(res: FeatureDrift, th: DriftThresholds) -> None:
    if res.n_live < th.min_rows:
        if res.note is None:
            res.note = f"only {res.n_live} live value(s); at least {th.min_rows} needed to judge"
        return
    if res.psi is not None and res.psi > th.psi:
        res.reasons.append(f"PSI {res.psi:.3f} > {th.psi}")
    if res.ks is not None and res.ks > th.ks:
        res.reasons.append(f"KS {res.ks:.3f} > {th.ks}")
    if res.missing_rate_live - res.missing_rate_ref > th.missing_rate:
        res.reasons.append(
            f"missing {res.missing_rate_live:.1%} vs {res.missing_rate_ref:.1%} in training"
        )
    if res.unseen_rate > th.unseen_rate:
        res.reasons.append(f"{res.unseen_rate:.1%} unseen values")
    res.drifted = bool(res.reasons)


def prediction_drift(
    reference_predictions: Any,
    live: pa.Table,
    thresholds: DriftThresholds | None = None,
    column: str = OUTPUT_COLUMN,
) -> FeatureDrift | None:
    """Drift of the model's outputs against its outputs on the reference data (None: no outputs)."""
    if column not in live.column_names or reference_predictions is None:
        return None
    prof = ReferenceProfile()
    prof.add("prediction", reference_predictions)
    return prof.compare_values("prediction", live[column], thresholds)
