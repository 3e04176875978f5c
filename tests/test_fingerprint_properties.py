"""Property-based tests: equal data hashes equal whatever its memory layout, and any single
change of a value, dtype, column name or column order changes the hash."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from jupyter_mlops.datasets.fingerprint import fingerprint

KINDS = ["int", "float", "text", "arrow_text", "category", "bool", "nullable_int", "datetime"]
TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=6)


@st.composite
def columns(draw, n: int):
    kind = draw(st.sampled_from(KINDS))
    if kind == "int":
        return kind, draw(st.lists(st.integers(-(2**40), 2**40), min_size=n, max_size=n))
    if kind == "float":
        return kind, draw(
            st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=n, max_size=n)
        )
    if kind in ("text", "arrow_text"):
        return kind, draw(st.lists(st.none() | TEXT, min_size=n, max_size=n))
    if kind == "category":
        return kind, draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=n, max_size=n))
    if kind == "bool":
        return kind, draw(st.lists(st.booleans(), min_size=n, max_size=n))
    if kind == "nullable_int":
        return kind, draw(st.lists(st.none() | st.integers(-1000, 1000), min_size=n, max_size=n))
    return kind, draw(
        st.lists(st.integers(0, 2**40).map(lambda s: np.datetime64(s, "s")), min_size=n, max_size=n)
    )


def build(kind: str, values: list, *, object_text: bool = False) -> pd.Series | pd.array:
    if kind == "int":
        return pd.Series(np.array(values, dtype=np.int64))
    if kind == "float":
        return pd.Series(np.array(values, dtype=np.float64))
    if kind == "text":
        if object_text:
            return pd.Series(np.array(values, dtype=object), dtype=object)
        return pd.Series(values, dtype="string[pyarrow]")
    if kind == "arrow_text":
        return pd.Series(pd.array(values, dtype=pd.ArrowDtype(pa.large_string())))
    if kind == "category":
        return pd.Series(pd.Categorical(values, categories=["a", "b", "c"]))
    if kind == "bool":
        return pd.Series(np.array(values, dtype=bool))
    if kind == "nullable_int":
        return pd.Series(pd.array(values, dtype="Int64"))
    return pd.Series(np.array(values, dtype="datetime64[s]"))


@st.composite
def frames(draw, min_rows: int = 0):
    n = draw(st.integers(min_rows, 12))
    k = draw(st.integers(1, 4))
    names = draw(st.lists(TEXT, min_size=k, max_size=k, unique=True))
    cols = [draw(columns(n)) for _ in range(k)]
    return names, cols, n


def make(names, cols, **kw) -> pd.DataFrame:
    return pd.DataFrame(
        {name: build(kind, vals, **kw) for name, (kind, vals) in zip(names, cols, strict=True)}
    )


SETTINGS = settings(
    max_examples=80, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


@SETTINGS
@given(frames(), st.integers(0, 5), st.integers(0, 5))
def test_a_slice_hashes_like_the_same_rows_built_fresh(spec, before, after):
    names, cols, n = spec
    fresh = make(names, cols)
    pad = [
        (kind, vals[:1] * before + vals + vals[-1:] * after) if vals else (kind, vals)
        for kind, vals in cols
    ]
    if n == 0:
        before = after = 0
    big = make(names, pad)
    sliced = big.iloc[before : before + n].reset_index(drop=True)
    assert fingerprint(sliced) == fingerprint(fresh)
    assert fingerprint(fresh.copy(deep=True)) == fingerprint(fresh)


@SETTINGS
@given(frames(min_rows=2), st.integers(1, 11))
def test_arrow_chunking_and_text_storage_do_not_change_the_hash(spec, cut):
    names, cols, n = spec
    cut = min(cut, n - 1)
    fresh = make(names, cols)
    chunked = pd.concat([fresh.iloc[:cut], fresh.iloc[cut:]], ignore_index=True)
    assert fingerprint(chunked) == fingerprint(fresh)
    # pandas 2 reads text as object columns, pandas 3 as Arrow strings: same data, same hash
    # (a column with no string at all is not text, so it is left out of this comparison)
    if all(kind != "text" or any(v is not None for v in vals) for kind, vals in cols):
        as_objects = make(names, cols, object_text=True)
        assert fingerprint(as_objects) == fingerprint(fresh)


@SETTINGS
@given(st.lists(st.floats(allow_nan=True), min_size=1, max_size=20), st.sampled_from(["C", "F"]))
def test_numeric_blocks_hash_by_value_not_layout(values, order):
    arr = np.array(values, dtype=np.float64)
    block = np.array(np.stack([arr, arr[::-1]], axis=1), order=order)
    df = pd.DataFrame(block, columns=["x", "y"])
    fresh = pd.DataFrame({"x": arr.copy(), "y": arr[::-1].copy()})
    assert fingerprint(df) == fingerprint(fresh)
    big_endian = pd.DataFrame({"x": arr.astype(">f8"), "y": arr[::-1].astype(">f8")})
    assert fingerprint(big_endian) == fingerprint(fresh)
    # a NaN made by arithmetic (negative quiet NaN on x86) is the same missing value
    weird = arr.copy()
    with np.errstate(invalid="ignore"):
        weird[np.isnan(weird)] = -np.float64(np.inf) * 0
    assert fingerprint(pd.DataFrame({"x": weird, "y": arr[::-1]})) == fingerprint(fresh)


def _changed_value(kind: str, value):
    if kind in ("int",):
        return value + 1
    if kind == "float":
        return 0.5 if value != 0.5 else 1.5
    if kind in ("text", "arrow_text"):
        return (value or "") + "x"
    if kind == "category":
        return "a" if value != "a" else "b"
    if kind == "bool":
        return not value
    if kind == "nullable_int":
        return None if value is not None else 7
    return value + np.timedelta64(1, "s")


@SETTINGS
@given(frames(min_rows=1), st.data())
def test_any_single_value_change_changes_the_hash(spec, data):
    names, cols, n = spec
    c = data.draw(st.integers(0, len(cols) - 1))
    r = data.draw(st.integers(0, n - 1))
    kind, vals = cols[c]
    changed = list(vals)
    changed[r] = _changed_value(kind, vals[r])
    other = [*cols[:c], (kind, changed), *cols[c + 1 :]]
    assert fingerprint(make(names, other)) != fingerprint(make(names, cols))


@SETTINGS
@given(frames(), st.data())
def test_names_order_and_dtypes_are_part_of_the_hash(spec, data):
    names, cols, n = spec
    base = make(names, cols)
    digest = fingerprint(base)
    renamed = base.rename(columns={names[0]: names[0] + "_"})
    assert fingerprint(renamed) != digest
    if len(names) > 1:
        i, j = data.draw(
            st.lists(st.integers(0, len(names) - 1), min_size=2, max_size=2, unique=True)
        )
        order = list(names)
        order[i], order[j] = order[j], order[i]
        assert fingerprint(base[order]) != digest
    kind = cols[0][0]
    assume(kind in ("int", "float", "bool", "category", "text"))
    retyped = base.copy()
    target = {"int": np.int32, "float": np.float32, "bool": np.int8, "category": "string"}.get(
        kind, "category"
    )
    with np.errstate(over="ignore"):
        retyped[names[0]] = base[names[0]].astype(target)
    assert fingerprint(retyped) != digest
