"""Content fingerprints of DataFrames, Series and numpy arrays.

A dataset version is identified by what its data *is*, never by the memory it sits in: a sliced
frame whose buffers still cover its parent, a frame split into several Arrow chunks, a Fortran-
ordered block or a big-endian array all hash like the same values built fresh. Every value, dtype,
column name and the column order change the hash. The hash is XXH3-128 streamed straight over the
(normalised) buffers, so it runs at memory speed, and the byte layout it feeds is defined here, not
by pandas or numpy, so it is stable across processes, machines and library versions.

Canonical forms (the contract that keeps digests stable):
- numeric numpy columns: little-endian bytes; every float NaN hashes as one canonical NaN;
- text (object columns of str, pandas ``string``/``str``, Arrow string/large_string/string_view):
  one logical "text" type hashed as UTF-8 bytes + int64 end offsets + positions of missing values,
  so a column read by pandas 2 (object) and by pandas 3 (Arrow strings) hashes the same;
- nullable (masked) and Arrow primitive columns: values with missing slots zeroed + the missing
  positions; categoricals: their categories (hashed as a column), ordered flag and codes;
- mixed object columns: every element encoded with its type, deterministically; an element whose
  only text form is a memory address is refused rather than hashed differently in every process.
- the index is part of the data unless it is the default ``RangeIndex(0, n)``.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import struct
import sys
from typing import Any

import numpy as np  # noqa: TID253 -- needed at import here
import xxhash

from ..errors import InvalidInput

SCHEME = b"jupyter-mlops/fingerprint/1"
_CHUNK = 1 << 17  # elements per float chunk: NaN check and hash share the cache
_CANONICAL_NAN = {4: np.float32("nan"), 8: np.float64("nan"), 2: np.float16("nan")}
_LITTLE = sys.byteorder == "little"


class _Hasher:
    """Length-framed XXH3-128 stream: framing keeps ("ab", "c") apart from ("a", "bc")."""

    __slots__ = ("h",)

    def __init__(self) -> None:
        self.h = xxhash.xxh3_128()

    def raw(self, data: Any) -> None:
        self.h.update(data)

    def tag(self, text: str | bytes) -> None:
        data = text.encode() if isinstance(text, str) else text
        self.h.update(struct.pack("<Q", len(data)))
        self.h.update(data)

    def int(self, value: int) -> None:
        self.h.update(struct.pack("<q", value))

    def digest(self) -> bytes:
        return self.h.digest()


def fingerprint(obj: Any) -> str:
    """Hex digest (32 chars) of a DataFrame, Series or numpy array's content."""
    return _fingerprint_bytes(obj).hex()


def column_fingerprints(obj: Any) -> dict[str, str]:
    """Per-column digests of a DataFrame (keys are ``str(name)``), for dataset diffs."""
    pd = _pandas()
    if pd is None or not isinstance(obj, pd.DataFrame):
        raise InvalidInput(
            f"column_fingerprints() takes a DataFrame, not {type(obj).__name__}",
            hint="pass a pandas DataFrame",
        )
    return fingerprint_frame(obj)[1]


def _pandas() -> Any:
    return sys.modules.get("pandas")


def _fingerprint_bytes(obj: Any) -> bytes:
    pd = _pandas()
    h = _Hasher()
    h.tag(SCHEME)
    if pd is not None and isinstance(obj, pd.DataFrame):
        return _frame_digest(obj, None)
    if pd is not None and isinstance(obj, pd.Series):
        h.tag("series")
        h.tag(_encode_label(obj.name, "series name"))
        h.int(len(obj))
        h.raw(_column_digest(obj, obj.name))
        h.raw(_index_digest(obj.index))
        return h.digest()
    if pd is not None and isinstance(obj, pd.Index):
        h.tag("index")
        h.raw(_index_digest(obj, force=True))
        return h.digest()
    if isinstance(obj, np.ndarray):
        h.tag("ndarray")
        h.tag(",".join(str(n) for n in obj.shape))
        flat = obj.reshape(-1) if obj.flags.c_contiguous else np.ascontiguousarray(obj).reshape(-1)
        h.raw(_numpy_digest(flat, "array"))
        return h.digest()
    raise InvalidInput(
        f"cannot fingerprint a {type(obj).__module__}.{type(obj).__qualname__}: it is not tabular",
        hint="pass a pandas DataFrame or Series or a numpy array (e.g. pd.DataFrame(obj))",
    )


def fingerprint_frame(df: Any) -> tuple[str, dict[str, str]]:
    """(digest, per-column digests) of a DataFrame in one pass; the digest equals fingerprint()."""
    columns: dict[str, str] = {}
    return _frame_digest(df, columns).hex(), columns


def _frame_digest(df: Any, columns: dict[str, str] | None) -> bytes:
    h = _Hasher()
    h.tag(SCHEME)
    h.tag("frame")
    h.int(len(df.columns))
    h.int(len(df))
    for i, name in _columns(df):
        h.tag(_encode_label(name, "column name"))
        digest = _column_digest(_column(df, i), name)
        if columns is not None:
            columns[str(name)] = digest.hex()
        h.raw(digest)
    h.raw(_index_digest(df.index))
    return h.digest()


def _columns(df: Any) -> list[tuple[int, Any]]:
    return list(enumerate(df.columns))


def _column(df: Any, i: int) -> Any:
    """The i-th column as a Series; ``_ixs`` skips iloc's indexing machinery (10x cheaper)."""
    ixs = getattr(df, "_ixs", None)
    return ixs(i, axis=1) if ixs is not None else df.iloc[:, i]


def _index_digest(index: Any, *, force: bool = False) -> bytes:
    pd = _pandas()
    h = _Hasher()
    if not force and isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1:
        h.tag("default-index")
        return h.digest()
    if isinstance(index, pd.MultiIndex):
        h.tag("multiindex")
        h.int(index.nlevels)
        for level in range(index.nlevels):
            h.tag(_encode_label(index.names[level], "index name"))
            h.raw(_column_digest(index.get_level_values(level), index.names[level]))
        return h.digest()
    if isinstance(index, pd.RangeIndex):
        index = pd.Index(np.arange(index.start, index.stop, index.step, dtype=np.int64))
    h.tag("index")
    h.tag(_encode_label(index.name, "index name"))
    h.raw(_column_digest(index, index.name))
    return h.digest()


def _column_digest(col: Any, name: Any) -> bytes:
    """Digest of one column's values and logical type (a Series or an Index)."""
    pd = _pandas()
    dtype = col.dtype
    if isinstance(dtype, np.dtype):
        values = col.to_numpy() if dtype.kind != "O" else np.asarray(col, dtype=object)
        if dtype.kind == "O":
            return _object_digest(values, name)
        return _numpy_digest(values, "np")
    if isinstance(dtype, pd.CategoricalDtype):
        cat = col.array
        h = _Hasher()
        h.tag("categorical")
        h.int(int(bool(dtype.ordered)))
        h.raw(_column_digest(dtype.categories, "categories"))
        h.raw(_numpy_digest(np.asarray(cat.codes), "codes"))
        return h.digest()
    if isinstance(dtype, pd.StringDtype):
        return _arrow_digest(_to_arrow(col.array, name), name, text=True)
    if isinstance(dtype, pd.ArrowDtype):
        return _arrow_digest(_to_arrow(col.array, name), name)
    arr = col.array
    if hasattr(arr, "_data") and hasattr(arr, "_mask"):  # masked: Int64, Float64, boolean
        return _masked_digest(np.asarray(arr._data), np.asarray(arr._mask), str(dtype))
    if isinstance(dtype, pd.DatetimeTZDtype):
        h = _Hasher()
        h.tag(f"datetimetz[{dtype.unit}, {dtype.tz}]")
        h.raw(_numpy_digest(np.asarray(arr.asi8), "i8"))
        return h.digest()
    # interval, period, sparse and third-party extension types: element by element
    return _object_digest(np.asarray(col, dtype=object), name, tag=str(dtype))


def _numpy_digest(values: np.ndarray, role: str) -> bytes:
    h = _Hasher()
    dtype = values.dtype
    if dtype.kind == "O":
        return _object_digest(values, role)
    if dtype.kind in "mM":
        h.tag(dtype.str.lstrip("<>|="))
        values = values.view(np.int64)
    else:
        h.tag(dtype.kind + str(dtype.itemsize) + (repr(dtype.descr) if dtype.kind == "V" else ""))
    h.int(values.size)
    if dtype.byteorder == ">" or (dtype.byteorder == "=" and not _LITTLE):
        values = values.astype(values.dtype.newbyteorder("<"))
    if not values.flags.c_contiguous:
        values = np.ascontiguousarray(values)
    if dtype.kind in "fc":
        _update_floats(h, values)
    else:
        h.raw(values)
    return h.digest()


def _update_floats(h: _Hasher, values: np.ndarray) -> None:
    """Hash floats with every NaN written as the canonical NaN (chunked: one pass over memory)."""
    flat = values.view(values.dtype.type(0).real.dtype) if values.dtype.kind == "c" else values
    nan = _CANONICAL_NAN.get(flat.dtype.itemsize)
    with np.errstate(all="ignore"):
        _update_float_chunks(h, flat, nan)


def _update_float_chunks(h: _Hasher, flat: np.ndarray, nan: Any) -> None:
    for start in range(0, flat.size, _CHUNK):
        chunk = flat[start : start + _CHUNK]
        total = np.add.reduce(chunk)
        if total != total:  # a NaN (or inf - inf): only then look closer
            mask = np.isnan(chunk)
            if mask.any():
                chunk = np.where(mask, nan, chunk)
        h.raw(chunk)


def _masked_digest(data: np.ndarray, mask: np.ndarray, tag: str) -> bytes:
    h = _Hasher()
    h.tag(f"masked[{tag}]")
    if mask.any():
        data = np.where(mask, data.dtype.type(0), data)
        h.raw(_numpy_digest(np.flatnonzero(mask).astype(np.int64), "missing"))
    else:
        h.tag("no-missing")
    h.raw(_numpy_digest(data, "values"))
    return h.digest()


def _to_arrow(arr: Any, name: Any) -> Any:
    import pyarrow as pa

    try:
        out = arr.__arrow_array__()
    except Exception as exc:
        raise InvalidInput(
            f"column {name!r} cannot be read as Arrow data: {exc}",
            hint="convert it with .astype(...) to a plain dtype first",
        ) from None
    return out if isinstance(out, pa.ChunkedArray) else pa.chunked_array([out])


def _arrow_digest(chunked: Any, name: Any, *, text: bool = False) -> bytes:
    import pyarrow as pa

    typ = chunked.type
    if pa.types.is_string(typ) or pa.types.is_large_string(typ) or pa.types.is_string_view(typ):
        return _arrow_varwidth_digest(chunked, "text")
    if pa.types.is_binary(typ) or pa.types.is_large_binary(typ) or pa.types.is_binary_view(typ):
        return _arrow_varwidth_digest(chunked, "binary")
    h = _Hasher()
    h.tag(f"arrow[{typ}]")
    if pa.types.is_dictionary(typ) or pa.types.is_nested(typ):
        h.raw(_object_digest(np.asarray(chunked.to_pylist(), dtype=object), name))
        return h.digest()
    missing = _arrow_missing(chunked)
    h.raw(missing)
    values = [c.fill_null(_zero_of(typ)) if c.null_count else c for c in chunked.chunks]
    stream = _Hasher()
    stream.tag(str(typ))
    for c in values:
        arr = c.to_numpy(zero_copy_only=False)
        if arr.dtype.kind in "mM":
            arr = arr.view(np.int64)
        if arr.dtype.kind in "fc":
            _update_floats(stream, np.ascontiguousarray(arr))
        else:
            stream.raw(np.ascontiguousarray(arr))
    h.raw(stream.digest())
    return h.digest()


def _zero_of(typ: Any) -> Any:
    import pyarrow as pa

    if pa.types.is_boolean(typ):
        return False
    if pa.types.is_timestamp(typ) or pa.types.is_date(typ) or pa.types.is_time(typ):
        return pa.scalar(0, type=pa.int64()).cast(typ) if not pa.types.is_date32(typ) else 0
    if pa.types.is_duration(typ):
        return pa.scalar(0, type=pa.int64()).cast(typ)
    return 0


def _arrow_missing(chunked: Any) -> bytes:
    """Digest of the row positions that are missing, independent of how the data is chunked."""
    h = _Hasher()
    h.tag("missing")
    if chunked.null_count == 0:
        return h.digest()
    base = 0
    for c in chunked.chunks:
        if c.null_count:
            mask = c.is_null().to_numpy(zero_copy_only=False)
            h.raw(np.flatnonzero(mask).astype(np.int64) + base)
        base += len(c)
    return h.digest()


def _arrow_varwidth_digest(chunked: Any, kind: str) -> bytes:
    """UTF-8/binary bytes + int64 end offsets (rebased to the logical start) + missing rows."""
    import pyarrow as pa

    big = pa.large_string() if kind == "text" else pa.large_binary()
    data, ends = _Hasher(), _Hasher()
    base = 0
    for chunk in chunked.chunks:
        if chunk.null_count:
            chunk = chunk.fill_null("" if kind == "text" else b"")
        if chunk.type not in (big, pa.string(), pa.binary()):
            chunk = chunk.cast(big)
        n = len(chunk)
        if n == 0:
            continue
        _, off_buf, data_buf = chunk.buffers()
        width = 8 if chunk.type == big else 4
        offsets = np.frombuffer(
            off_buf, dtype="<i8" if width == 8 else "<i4", count=n + 1, offset=chunk.offset * width
        )
        start, end = int(offsets[0]), int(offsets[-1])
        if end > start:
            data.raw(data_buf.slice(start, end - start))
        tail = offsets[1:]
        if width == 8 and start == base:
            ends.raw(tail)
        else:
            ends.raw(tail.astype(np.int64) + (base - start))
        base += end - start
    h = _Hasher()
    h.tag(kind)
    h.int(len(chunked))
    h.raw(_arrow_missing(chunked))
    h.raw(ends.digest())
    h.raw(data.digest())
    return h.digest()


def _object_digest(values: np.ndarray, name: Any, tag: str = "object") -> bytes:
    """Object columns: text when every value is a string (or missing), else element by element."""
    pd = _pandas()
    if pd is not None and values.size and pd.api.types.infer_dtype(values, skipna=True) == "string":
        import pyarrow as pa

        return _arrow_varwidth_digest(
            pa.chunked_array([pa.array(values, type=pa.large_string(), from_pandas=True)]), "text"
        )
    h = _Hasher()
    h.tag(f"elements[{tag}]")
    h.int(values.size)
    buf = bytearray()
    for i, value in enumerate(values.reshape(-1)):
        try:
            _encode_value(value, buf)
        except _Unhashable as exc:
            raise InvalidInput(
                f"column {name!r}, row {i}: a {exc.args[0]} value has no stable content to hash",
                hint="convert the column to strings or numbers (e.g. .astype(str)) first",
            ) from None
        if len(buf) > 1 << 20:
            h.raw(bytes(buf))
            buf.clear()
    h.raw(bytes(buf))
    return h.digest()


class _Unhashable(Exception):
    pass


def _encode_label(label: Any, what: str) -> bytes:
    buf = bytearray()
    try:
        _encode_value(label, buf)
    except _Unhashable as exc:
        raise InvalidInput(
            f"a {what} of type {exc.args[0]} has no stable content to hash",
            hint="use strings or numbers as names",
        ) from None
    return bytes(buf)


def _encode_value(v: Any, out: bytearray) -> None:
    """Type-tagged, self-delimiting bytes of one value (the same in every process)."""
    if v is None or _is_missing_singleton(v):
        out += b"N"
        return
    if isinstance(v, np.generic):
        if isinstance(v, np.datetime64 | np.timedelta64):
            out += b"D" + str(v).encode() + b";"
            return
        v = v.item()
    if isinstance(v, bool):
        out += b"T" if v else b"F"
    elif isinstance(v, int):
        out += b"i" + str(v).encode() + b";"
    elif isinstance(v, float):
        out += b"fnan;" if v != v else b"f" + float.hex(v).encode() + b";"
    elif isinstance(v, str):
        data = v.encode("utf-8", "surrogatepass")
        out += b"s" + str(len(data)).encode() + b":" + data
    elif isinstance(v, bytes | bytearray | memoryview):
        data = bytes(v)
        out += b"y" + str(len(data)).encode() + b":" + data
    elif isinstance(v, _dt.datetime | _dt.date | _dt.time):
        out += b"t" + type(v).__name__.encode() + b"|" + v.isoformat().encode() + b";"
    elif isinstance(v, _dt.timedelta):
        out += b"d" + (str(v.value) if hasattr(v, "value") else repr(v)).encode() + b";"
    elif isinstance(v, decimal.Decimal | complex):
        out += b"x" + type(v).__name__.encode() + b"|" + str(v).encode() + b";"
    elif isinstance(v, tuple | list):
        out += (b"(" if isinstance(v, tuple) else b"[") + str(len(v)).encode() + b":"
        for item in v:
            _encode_value(item, out)
    elif isinstance(v, dict):
        items = []
        for key, value in v.items():
            k, val = bytearray(), bytearray()
            _encode_value(key, k)
            _encode_value(value, val)
            items.append(bytes(k) + bytes(val))
        out += b"{" + str(len(items)).encode() + b":" + b"".join(sorted(items))
    elif isinstance(v, np.ndarray):
        out += b"a" + _numpy_digest(np.ascontiguousarray(v).reshape(-1), "nested")
    else:
        text = repr(v)
        if " at 0x" in text or " object at " in text:
            raise _Unhashable(f"{type(v).__module__}.{type(v).__qualname__}")
        data = text.encode("utf-8", "surrogatepass")
        out += b"r" + type(v).__qualname__.encode() + b"|" + str(len(data)).encode() + b":" + data


def _is_missing_singleton(v: Any) -> bool:
    pd = _pandas()
    return pd is not None and (v is pd.NA or v is pd.NaT)
