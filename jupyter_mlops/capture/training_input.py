"""What a model was fitted on: the input example its signature is inferred from.

In order, the first that fits what the model knows of its input (``FeatureHint``: number of
features, their names, text):

1. data the model keeps itself (a statsmodels result's design matrix or formula frame);
2. the first argument of the cell's own ``.fit(...)``, ``.partial_fit(...)``,
   ``xgb.DMatrix(...)``, ``lgb.Dataset(...)`` or ``Pool(...)`` calls, read from its syntax tree
   and looked up in the namespace (names, attributes, ``df[cols]``: nothing is called);
3. a frame, array, sparse matrix or list of documents in the namespace of the right shape and
   column names, ``*train*`` and ``X*`` names first;
4. zeros shaped like the model's input (``n_features_in_`` and the type it computes in), when
   the data lived only inside a function (a ``partial_fit`` loop over batches); said so in the
   logged model's ``mlops.example_source`` tag.

Column labels are compared as text: LightGBM keeps ``"0"`` for a frame read with ``header=None``.
"""

from __future__ import annotations

import ast
from typing import Any

from ..flavors.protocol import FeatureHint, ModelFlavor

EXAMPLE_ROWS = 5
# calls whose first argument is the training input
_FIT_METHODS = ("fit", "partial_fit", "fit_transform", "fit_predict")
_DATA_WRAPPERS = ("DMatrix", "QuantileDMatrix", "Dataset", "Pool")


def _rows(obj: Any, n: int) -> Any:
    return obj.iloc[:n] if hasattr(obj, "iloc") else obj[:n]


def _resolve(node: ast.AST, user_ns: dict[str, Any], depth: int = 0) -> Any:
    """The value of a plain expression (name, attribute, subscript by constants or names);
    raises LookupError for anything else, so nothing the user wrote is ever called."""
    if depth > 6:
        raise LookupError("too deep")
    if isinstance(node, ast.Name):
        if node.id not in user_ns:
            raise LookupError(node.id)
        return user_ns[node.id]
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Attribute):
        base = _resolve(node.value, user_ns, depth + 1)
        if isinstance(base, type) or callable(getattr(type(base), node.attr, None)):
            raise LookupError(node.attr)  # a method or a property-like call: not evaluated
        return getattr(base, node.attr)
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_resolve(e, user_ns, depth + 1) for e in node.elts]
    if isinstance(node, ast.Subscript):
        base = _resolve(node.value, user_ns, depth + 1)
        key = node.slice
        if isinstance(key, ast.Slice):
            raise LookupError("slice")
        return base[_resolve(key, user_ns, depth + 1)]
    raise LookupError(type(node).__name__)


def _call_name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _receiver(call: ast.Call) -> str | None:
    """``m`` in ``m.fit(...)`` and ``Model(...).fit(...)`` assigned to ``m`` (see below)."""
    func = call.func
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        return func.value.id
    return None


def fit_arguments(source: str, var: str | None = None) -> list[tuple[ast.AST, bool]]:
    """The first (data) argument of each fitting call in ``source``, in order, each with
    whether the call fitted ``var`` itself (``var.fit(X)``, ``var = Model().fit(X)``)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    assigned: dict[int, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name) and isinstance(node.value, ast.Call):
                assigned[id(node.value)] = target.id
    found: list[tuple[ast.AST, bool]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _call_name(node)
        if name not in _FIT_METHODS and name not in _DATA_WRAPPERS:
            continue
        own = var is not None and var in (_receiver(node), assigned.get(id(node)))
        if node.args:
            found.append((node.args[0], own and name in _FIT_METHODS))
        for kw in node.keywords:
            if kw.arg in ("X", "data", "exog"):
                found.append((kw.value, own and name in _FIT_METHODS))
    return found


def _matches(obj: Any, hint: FeatureHint) -> bool:
    if hint.text:
        values = obj.tolist() if hasattr(obj, "tolist") else obj
        if isinstance(values, (list, tuple)) and values and getattr(obj, "ndim", 1) == 1:
            return all(isinstance(v, str) for v in values[:EXAMPLE_ROWS])
        return False
    shape = getattr(obj, "shape", None)
    if not isinstance(shape, tuple) or len(shape) != 2:
        return False
    if hint.n_features is not None and shape[1] != hint.n_features:
        return False
    if hint.names is not None:
        cols = getattr(obj, "columns", None)
        if cols is None or [str(c) for c in cols] != [str(n) for n in hint.names]:
            return False
    return hint.n_features is not None or hint.names is not None


def _from_namespace(user_ns: dict[str, Any], hint: FeatureHint) -> tuple[str, Any] | None:
    candidates = []
    for var, obj in list(user_ns.items()):
        if var.startswith("_") or isinstance(obj, (str, bytes)):
            continue
        try:
            ok = _matches(obj, hint)
        except Exception:
            ok = False
        if ok:
            size = len(obj) if hint.text else obj.shape[0]
            score = (("train" in var.lower()) * 2) + (var.lower().startswith("x"))
            candidates.append((score, size, var))
    if not candidates:
        return None
    candidates.sort(reverse=True)
    var = candidates[0][2]
    return var, user_ns[var]


def _zeros(hint: FeatureHint) -> Any | None:
    if hint.n_features is None or hint.text or hint.categorical:
        return None
    import numpy as np

    dtype = hint.dtype if hint.dtype in ("float32", "float64", "float16") else "float64"
    zeros = np.zeros((EXAMPLE_ROWS, hint.n_features), dtype=dtype)
    if hint.names is not None:
        import pandas as pd

        return pd.DataFrame(zeros, columns=hint.names)
    return zeros


def find(
    est: Any, flavor: ModelFlavor, user_ns: dict[str, Any], source: str = "", var: str | None = None
) -> tuple[Any | None, str | None]:
    """The input example for ``est`` (the namespace's ``var``) and where it came from (None,
    None: nothing found). A model that knows nothing of its input (no ``n_features_in_``) takes
    the data of the call that fitted it by name."""
    hint = flavor.features(est)
    if hint.stored is not None:
        return _rows(hint.stored, EXAMPLE_ROWS), "the model's own training data"
    blind = hint.n_features is None and hint.names is None and not hint.text
    for node, own in fit_arguments(source, var):
        try:
            value = _resolve(node, user_ns)
        except Exception:
            continue
        try:
            ok = (own and blind and hasattr(value, "__len__")) or _matches(value, hint)
        except Exception:
            ok = False
        if ok:
            return _rows(value, EXAMPLE_ROWS), ast.unparse(node)
    found = _from_namespace(user_ns, hint)
    if found is not None:
        return _rows(found[1], EXAMPLE_ROWS), found[0]
    zeros = _zeros(hint)
    if zeros is not None:
        return zeros, (
            f"zeros shaped like the model's input ({hint.n_features} features): "
            "its training data was not in the namespace"
        )
    return None, None


def _dict_value(node: ast.AST, user_ns: dict[str, Any]) -> dict[str, Any] | None:
    if isinstance(node, ast.Dict):
        out: dict[str, Any] = {}
        for key, value in zip(node.keys, node.values, strict=False):
            if not isinstance(key, ast.Constant) or not isinstance(key.value, str):
                continue
            try:
                out[key.value] = _resolve(value, user_ns)
            except Exception:
                out[key.value] = ast.unparse(value)
        return out
    if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "dict":
        return {kw.arg: (_literal(kw.value, user_ns)) for kw in node.keywords if kw.arg is not None}
    try:
        value = _resolve(node, user_ns)
    except Exception:
        return None
    return dict(value) if isinstance(value, dict) else None


def _literal(node: ast.AST, user_ns: dict[str, Any]) -> Any:
    try:
        return _resolve(node, user_ns)
    except Exception:
        return ast.unparse(node)


def train_call_params(source: str, user_ns: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """variable -> the params dict (and round count) given to ``x.train(...)`` assigned to it,
    as in ``booster = xgb.train(params, dtrain, num_boost_round=50)``."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    found: dict[str, dict[str, Any]] = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Assign) or not isinstance(node.value, ast.Call):
            continue
        call = node.value
        if _call_name(call) != "train" or not isinstance(call.func, ast.Attribute):
            continue
        params_node = call.args[0] if call.args else None
        rounds_node = call.args[2] if len(call.args) > 2 else None
        for kw in call.keywords:
            if kw.arg == "params":
                params_node = kw.value
            elif kw.arg == "num_boost_round":
                rounds_node = kw.value
        params = _dict_value(params_node, user_ns) if params_node is not None else None
        if params is None:
            continue
        if rounds_node is not None:
            params["num_boost_round"] = _literal(rounds_node, user_ns)
        for target in node.targets:
            if isinstance(target, ast.Name):
                found[target.id] = params
    return found
