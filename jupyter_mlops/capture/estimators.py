"""Which models a cell fitted, and which data they were fitted on.

Before the cell we note, for every model object in the namespace that a flavor recognises
(``flavors.registry``: scikit-learn, XGBoost, LightGBM, CatBoost, statsmodels, PyTorch, Keras,
and any a package adds), the flavor's fitted marker (the identities of fitted attributes, a
booster's identity and rounds, a module's parameter versions...). After the cell, a model whose
marker changed, or that is new and fitted, was fitted by this cell. No patching of ``fit``, so
nothing slows the user's code.

Only models that predict are logged (a model is something to serve). A fitted transformer on its
own (a StandardScaler) is named in a tag instead. An object the cell made that has a ``predict``
method but no flavor is named in one line under the cell and in the ``mlops.not_logged`` tag:
never dropped silently.
"""

from __future__ import annotations

import logging
import types
from typing import Any

from ..flavors.protocol import ModelFlavor
from ..flavors.registry import model_flavors
from ..limits import LIST_TEXT
from ..tags import FITTED_WITHOUT_PREDICT_TAG, NOT_LOGGED_TAG
from . import model_params, training_input

# name -> (id of the object, its flavor's fitted marker or None)
Marker = Any
Snapshot = dict[str, tuple[int, Any]]

EXAMPLE_ROWS = training_input.EXAMPLE_ROWS

log = logging.getLogger("jupyter_mlops.capture")

_flavor_of_type: dict[type, ModelFlavor | None] = {}


def flavor_of(obj: Any) -> ModelFlavor | None:
    """The flavor of ``obj``, cached per type (the namespace is walked before every cell)."""
    kind = type(obj)
    if kind in _flavor_of_type:
        return _flavor_of_type[kind]
    flavor = model_flavors.flavor_for(obj)
    if len(_flavor_of_type) > 2000:
        _flavor_of_type.clear()
    _flavor_of_type[kind] = flavor
    return flavor


def _fitted_marker(flavor: ModelFlavor, obj: Any) -> Any:
    try:
        return flavor.fitted(obj)
    except Exception:  # a half-built object: nothing to log
        log.debug("fitted marker of %r failed", type(obj), exc_info=True)
        return None


def snapshot(user_ns: dict[str, Any]) -> Snapshot:
    """Every public name's object id, with the fitted marker of those a flavor recognises."""
    if not model_flavors.imported():
        return {name: (id(obj), None) for name, obj in list(user_ns.items()) if name[:1] != "_"}
    marks: Snapshot = {}
    for name, obj in list(user_ns.items()):
        if name[:1] == "_" or isinstance(obj, (type, types.ModuleType)):
            continue
        flavor = flavor_of(obj)
        marks[name] = (id(obj), _fitted_marker(flavor, obj) if flavor is not None else None)
    return marks


def fitted_since(before: Snapshot, user_ns: dict[str, Any]) -> dict[str, Any]:
    """name -> model for models fitted (or refitted) since ``before``."""
    fitted = {}
    for name, (ident, mark) in snapshot(user_ns).items():
        if mark is None:
            continue
        old = before.get(name)
        if old is None or old != (ident, mark):
            fitted[name] = user_ns[name]
    return fitted


def unlogged_models(before: Snapshot, user_ns: dict[str, Any]) -> list[str]:
    """Objects new since ``before`` that predict but that no flavor knows: ``name (Class)``."""
    found = []
    for name, obj in list(user_ns.items()):
        if name[:1] == "_" or isinstance(obj, (type, types.ModuleType, types.FunctionType)):
            continue
        old = before.get(name)
        if old is not None and old[0] == id(obj):
            continue
        if not callable(getattr(obj, "predict", None)) or flavor_of(obj) is not None:
            continue
        module = type(obj).__module__ or ""
        if module.split(".")[0] in ("mlflow", "jupyter_mlops"):
            continue  # a loaded MLflow model is already logged somewhere
        found.append(f"{name} ({module}.{type(obj).__qualname__})")
    return found


def predicts(est: Any, flavor: ModelFlavor | None = None) -> bool:
    """Whether ``est`` can serve predictions (a Pipeline can when its last step can)."""
    check = getattr(flavor, "predicts", None)
    if callable(check):
        return bool(check(est))
    return flavor is not None or callable(getattr(est, "predict", None))


def log_fitted_models(
    run: Any,
    before: Snapshot,
    user_ns: dict[str, Any],
    source: str = "",
    warnings: list[str] | None = None,
    param_sources: dict[str, str] | None = None,
) -> list[str]:
    """Log every predicting model fitted since ``before`` on ``run``, named after its variable,
    with its own params (also on the run, as ``name.param``); the others are listed in tags.
    ``warnings`` gets a line for each object that looks like a model and was not logged."""
    names, others, problems = [], [], []
    train_params = training_input.train_call_params(source, user_ns)
    for name, est in fitted_since(before, user_ns).items():
        flavor = flavor_of(est)
        if flavor is None:
            continue
        if not predicts(est, flavor):
            others.append(f"{name} ({type(est).__name__})")
            continue
        try:
            example, where = training_input.find(est, flavor, user_ns, source, name)
            given = train_params.get(name)  # the dict given to xgb.train: what the user chose
            own = model_params.for_logged_model(given or _own_params(flavor, est))
            run.log_model(est, name=name, X=example, example_source=where, params=own)
        except Exception as exc:
            problems.append(f"{name} ({type(est).__name__}): {_reason(exc)}")
            continue
        names.append(name)
        try:
            _log_model_params_on_run(run, name, own, param_sources)
        except Exception as exc:  # the model is logged with its params; only the run's copy is lost
            line = f"model {name}: its params were not copied to the run: {_reason(exc)}"
            if warnings is not None:
                warnings.append(line)
    problems += [f"{o}: no model flavor knows it" for o in unlogged_models(before, user_ns)]
    if others:
        listed = ", ".join(others)
        run.set_tags({FITTED_WITHOUT_PREDICT_TAG: listed[:LIST_TEXT]})
        log.debug("fitted, not logged as models (they do not predict): %s", listed)
    if problems:
        run.set_tags({NOT_LOGGED_TAG: " | ".join(problems)[:LIST_TEXT]})
        for problem in problems:
            line = f"model not logged: {problem}"
            if warnings is not None:
                warnings.append(line)
            else:
                log.warning("%s", line)
    return names


def _reason(exc: BaseException) -> str:
    message = getattr(exc, "message", None) or str(exc)
    return f"{type(exc).__name__}: {message}"[:300]


def _own_params(flavor: ModelFlavor, est: Any) -> dict[str, Any]:
    try:
        return dict(flavor.params(est))
    except Exception:
        log.debug("params of %r failed", type(est), exc_info=True)
        return {}


def _log_model_params_on_run(
    run: Any, name: str, own: dict[str, Any], sources: dict[str, str] | None
) -> None:
    """The model's params on the run as ``name.param``, within MLflow's 100 per batch."""
    room = max(0, model_params.MAX_RUN_PARAMS - len(run.params))
    fresh, notes = model_params.as_run_params(name, own, room, run.params)
    if fresh:
        run.log_params(fresh)
    if sources is not None:
        for key in fresh:
            sources[key] = f"model {name}"
        sources.update(notes)
