"""Schema and a cheap profile of a dataset version, as MLflow shows them on every run's inputs.

The schema uses MLflow's ``mlflow_colspec`` layout (so the MLflow UI renders it) plus the exact
pandas dtypes; the profile keeps what a reviewer compares between two versions: rows, missing
values, min/max/mean/std of numbers, the most frequent categories, and each column's content
digest (so a diff can say *which* columns changed without loading either version).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np  # noqa: TID253 -- needed at import here

from ..errors import InvalidInput

MAX_PROFILED_COLUMNS = 200
TOP_K = 5
TOP_SAMPLE_ROWS = 200_000


def as_frame(obj: Any, name: str = "value") -> Any:
    """A DataFrame view of a DataFrame, Series or numpy array (arrays of rank > 2 are refused)."""
    import pandas as pd

    if isinstance(obj, pd.DataFrame):
        return obj
    if isinstance(obj, pd.Series):
        return obj.to_frame(name=obj.name if obj.name is not None else name)
    if isinstance(obj, np.ndarray):
        if obj.ndim == 1:
            return pd.DataFrame({name: obj})
        if obj.ndim == 2:
            return pd.DataFrame(obj, columns=[f"{name}_{i}" for i in range(obj.shape[1])])
        raise InvalidInput(
            f"{name}: a {obj.ndim}-dimensional array is not tabular",
            hint="reshape it to 2 dimensions or log it as an artifact",
        )
    raise InvalidInput(
        f"{name}: a {type(obj).__name__} is not tabular",
        hint="pass a pandas DataFrame or Series or a numpy array",
    )


def _mlflow_type(dtype: Any) -> str:
    import pandas as pd

    kind = getattr(dtype, "kind", "O")
    if isinstance(dtype, pd.CategoricalDtype | pd.StringDtype):
        return "string"
    if isinstance(dtype, pd.ArrowDtype):
        text = str(dtype.pyarrow_dtype)
        return "string" if "string" in text else "binary" if "binary" in text else text
    if kind == "b":
        return "boolean"
    if kind in "iu":
        return "long" if dtype.itemsize >= 8 else "integer"
    if kind == "f":
        return "double" if dtype.itemsize >= 8 else "float"
    if kind == "M" or isinstance(dtype, pd.DatetimeTZDtype):
        return "datetime"
    return "string" if kind == "O" else str(dtype)


def schema_of(df: Any) -> dict[str, Any]:
    """Names, dtypes and nullability of every column, and the index."""
    cols = []
    for i, name in enumerate(df.columns):
        col = df.iloc[:, i]  # by position: df[name] is a frame when a name repeats
        nulls = int(col.isna().sum())
        cols.append(
            {
                "name": str(name),
                "type": _mlflow_type(col.dtype),
                "required": nulls == 0,
                "pandas_dtype": str(col.dtype),
            }
        )
    index: dict[str, Any] = {"names": [None if n is None else str(n) for n in df.index.names]}
    index["dtype"] = str(df.index.dtype)
    return {"mlflow_colspec": cols, "index": index}


def _num(value: Any) -> float | int | str | None:
    if value is None:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else str(value)
    if isinstance(value, int | float):
        return value
    return str(value)


def _column_profile(col: Any) -> dict[str, Any]:
    import pandas as pd

    out: dict[str, Any] = {"dtype": str(col.dtype), "nulls": int(col.isna().sum())}
    dtype = col.dtype
    numeric = pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
    if numeric:
        values = col.to_numpy(dtype="float64", na_value=np.nan)
        finite = values[~np.isnan(values)] if out["nulls"] or values.dtype.kind == "f" else values
        if finite.size:
            out.update(
                min=_num(finite.min()),
                max=_num(finite.max()),
                mean=_num(float(finite.mean())),
                std=_num(float(finite.std())),
            )
        return out
    if pd.api.types.is_datetime64_any_dtype(dtype):
        valid = col.dropna()
        if len(valid):
            out.update(min=str(valid.min()), max=str(valid.max()))
        return out
    if isinstance(dtype, pd.CategoricalDtype):
        codes = np.asarray(col.cat.codes)
        counts = np.bincount(codes[codes >= 0], minlength=len(dtype.categories))
        order = np.argsort(-counts, kind="stable")[:TOP_K]
        out["unique"] = int((counts > 0).sum())
        out["top"] = [[str(dtype.categories[i]), int(counts[i])] for i in order if counts[i]]
        return out
    sample = col if len(col) <= TOP_SAMPLE_ROWS else col.iloc[:TOP_SAMPLE_ROWS]
    try:
        counts = sample.value_counts(dropna=True)
    except TypeError:  # unhashable elements (lists, dicts)
        return out
    out["top"] = [[str(k)[:100], int(v)] for k, v in counts.iloc[:TOP_K].items()]
    if len(sample) < len(col):
        out["top_sampled_rows"] = len(sample)
    else:
        out["unique"] = len(counts)
    return out


def profile_of(df: Any, column_digests: dict[str, str] | None = None) -> dict[str, Any]:
    """Rows, missing values, number summaries and top categories per column (first 200 columns)."""
    columns = {}
    for i, name in enumerate(df.columns[:MAX_PROFILED_COLUMNS]):
        prof = _column_profile(df.iloc[:, i])
        if column_digests and str(name) in column_digests:
            prof["digest"] = column_digests[str(name)]
        columns[str(name)] = prof
    return {
        "num_rows": len(df),
        "num_elements": int(len(df) * len(df.columns)),
        "num_columns": len(df.columns),
        "columns": columns,
    }
