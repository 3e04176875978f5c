"""A model's own hyperparameters as MLflow params, within MLflow's limits.

Each logged model keeps all of its params (``get_params()``, a booster's config, the dict given
to ``xgb.train`` / ``lgb.train``), as MLflow's autolog records them: values as text, an
estimator as its repr, each cut to MLflow's 6000 characters with ``...`` at the end. The run
gets them too, as ``model.param``, but a run takes at most 100 params in one batch: what does
not fit is left on the logged model, and the run's ``mlops.param_sources`` says so.
"""

from __future__ import annotations

from typing import Any

from ..limits import MAX_KEY, MAX_PARAM_VALUE
from .record_checks import KEY_RE

# MLflow's log_batch takes at most 100 params; a cell's params travel in one batch
MAX_RUN_PARAMS = 100


def value_text(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    if len(text) > MAX_PARAM_VALUE:
        return text[: MAX_PARAM_VALUE - 3] + "..."
    return text


def _usable_key(key: str) -> bool:
    return 0 < len(key) <= MAX_KEY and bool(KEY_RE.match(key)) and ".." not in key


def for_logged_model(params: dict[str, Any]) -> dict[str, str]:
    """``params`` as text MLflow accepts; keys it would refuse are left out."""
    return {str(k): value_text(v) for k, v in params.items() if _usable_key(str(k))}


def as_run_params(
    name: str, own: dict[str, str], room: int, logged: dict[str, str]
) -> tuple[dict[str, str], dict[str, str]]:
    """``own`` as run params ``name.key``: at most ``room`` new ones, none that the run already
    holds with another value. Returns them, and notes (param or ``...`` -> why left out)."""
    fresh: dict[str, str] = {}
    notes: dict[str, str] = {}
    left = 0
    for key, text in own.items():
        full = f"{name}.{key}"
        if not _usable_key(full) or full in logged:
            continue
        if len(fresh) >= room:
            left += 1
            continue
        fresh[full] = text
    if left:
        notes[f"{name}.*"] = (
            f"{left} more params of model {name} are on the logged model only "
            f"(MLflow takes {MAX_RUN_PARAMS} params per batch)"
        )
    truncated = [k for k, v in fresh.items() if len(v) == MAX_PARAM_VALUE and v.endswith("...")]
    for key in truncated:
        notes[key] = f"model {name}, cut to {MAX_PARAM_VALUE} characters"
    return fresh, notes
