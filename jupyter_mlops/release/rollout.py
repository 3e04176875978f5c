"""Public entry point for rollout actions (``promote``, ``rollback``, ``demote_canary``...)."""

from __future__ import annotations

from .aliases.rollout import (
    SHADOW_TAG,
    TARGETS,
    WEIGHT_TAG,
    RolloutState,
    demote_canary,
    promote,
    rollback,
    set_canary_weight,
    state,
)

__all__ = [
    "SHADOW_TAG",
    "TARGETS",
    "WEIGHT_TAG",
    "RolloutState",
    "demote_canary",
    "promote",
    "rollback",
    "set_canary_weight",
    "state",
]
