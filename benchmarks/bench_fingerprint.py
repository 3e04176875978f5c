"""Fingerprint throughput against memory bandwidth and pandas' own row hash, in one run.

    .venv/bin/python benchmarks/bench_fingerprint.py [--quick]

Frame: 3 int64, 3 float64, 2 Arrow string, 2 categorical columns (10M rows; 1M with --quick).
Memory bandwidth is a numpy copy of the same number of bytes, measured in the same run; the
baseline is ``pandas.util.hash_pandas_object`` (on a 1M-row slice, scaled: it is ~100x slower).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jupyter_mlops.datasets.fingerprint import fingerprint


def make_frame(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    words = np.array([f"value-{i:07d}" for i in range(5000)], dtype=object)
    return pd.DataFrame(
        {
            "i1": rng.integers(0, 1000, n),
            "i2": rng.integers(0, 1 << 40, n),
            "i3": rng.integers(-5, 5, n),
            "f1": rng.random(n),
            "f2": rng.normal(size=n),
            "f3": np.where(rng.random(n) < 0.01, np.nan, rng.random(n)),
            "s1": pd.array(words[rng.integers(0, 5000, n)], dtype="string[pyarrow]"),
            "s2": pd.array(words[rng.integers(0, 5000, n)], dtype=pd.ArrowDtype(pa.string())),
            "c1": pd.Categorical.from_codes(rng.integers(0, 20, n), [f"c{i}" for i in range(20)]),
            "c2": pd.Categorical.from_codes(rng.integers(0, 300, n), [f"k{i}" for i in range(300)]),
        }
    )


def buffer_bytes(df: pd.DataFrame) -> int:
    total = 0
    for name in df.columns:
        arr = df[name].array
        if hasattr(arr, "__arrow_array__") and not isinstance(df[name].dtype, pd.CategoricalDtype):
            total += arr.__arrow_array__().nbytes
        else:
            total += df[name].memory_usage(index=False, deep=False)
    return total


def best_of(func, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def copy_seconds(nbytes: int) -> float:
    """Best time of a numpy copy of ``nbytes``: the memory bandwidth this run can expect."""
    src = np.ones(nbytes // 8, dtype=np.int64)
    dst = np.empty_like(src)
    return best_of(lambda: np.copyto(dst, src), 5)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="1M rows instead of 10M (< 20 s)")
    opts = parser.parse_args()
    rows = 1_000_000 if opts.quick else 10_000_000
    df = make_frame(rows)
    nbytes = buffer_bytes(df)

    copy_s = copy_seconds(nbytes)
    bandwidth = nbytes / copy_s

    fp_s = best_of(lambda: fingerprint(df), 5)
    fp_rate = nbytes / fp_s

    base_rows = min(rows, 1_000_000)
    base_df = df.iloc[:base_rows]
    base_bytes = buffer_bytes(base_df.copy())
    base_s = best_of(lambda: pd.util.hash_pandas_object(base_df, index=False).sum(), 1)
    base_rate = base_bytes / base_s

    small = make_frame(100_000, seed=1)
    fingerprint(small)
    small_times = []
    for _ in range(200):
        start = time.perf_counter()
        fingerprint(small)
        small_times.append(time.perf_counter() - start)
    p50, p95 = statistics.median(small_times), sorted(small_times)[int(0.95 * len(small_times))]

    sliced = df.iloc[rows // 10 : rows // 2]
    same = fingerprint(sliced.reset_index(drop=True)) == fingerprint(
        sliced.copy().reset_index(drop=True)
    )

    print(f"fingerprint benchmark: {rows:,} rows x 10 columns, {nbytes / 1e6:,.0f} MB of buffers")
    print(f"{'measure':<44}{'value':>14}{'ratio':>22}")
    print(f"{'memory bandwidth (numpy copy)':<44}{bandwidth / 1e9:>11.2f} GB/s{'1.00':>22}")
    print(
        f"{'fingerprint (1 thread)':<44}{fp_rate / 1e9:>11.2f} GB/s"
        f"{fp_rate / bandwidth:>14.2f} of copy"
    )
    print(
        f"{'baseline pandas.util.hash_pandas_object':<44}{base_rate / 1e9:>11.2f} GB/s"
        f"{fp_rate / base_rate:>14.0f}x faster"
    )
    print(f"{'fingerprint, whole frame':<44}{fp_s * 1000:>11.1f} ms")
    print(f"{'fingerprint, 100k rows, p50':<44}{p50 * 1000:>11.3f} ms{'(target <= 1 ms)':>22}")
    print(f"{'fingerprint, 100k rows, p95':<44}{p95 * 1000:>11.3f} ms")
    print(f"{'slice hashes like its copy':<44}{str(same):>14}")
    target = "met" if fp_rate >= 8e9 else "NOT met"
    print(f"target >= 8 GB/s: {target}; 100k rows <= 1 ms: {'met' if p50 <= 1e-3 else 'NOT met'}")


if __name__ == "__main__":
    from figures import quiet

    quiet()
    main()
