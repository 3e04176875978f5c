"""Registered models, their versions, gates, rollout, history and approvals."""

from __future__ import annotations

from typing import Any, Literal

from .base import TypedDict


class ModelSummary(TypedDict):
    """A registered model as ``GET models`` lists it."""

    name: str
    aliases: dict[str, str]
    canary_weight: float
    shadow: bool
    description: str
    updated: int | None


class ModelList(TypedDict):
    """``GET models``."""

    models: list[ModelSummary]


class ModelVersion(TypedDict):
    """A version of a registered model; ``gates`` is passed, failed or pending."""

    name: str
    version: str
    run_id: str | None
    status: str
    created: int | None
    aliases: list[str]
    gates: str
    rolled_back: bool
    registered_by: str | None
    metrics: dict[str, str]


class ModelVersions(TypedDict):
    """``GET models/{name}/versions``: the model's alias state and its versions, newest first."""

    model: str
    aliases: dict[str, str]
    canary_weight: float
    shadow: bool
    versions: list[ModelVersion]


class GateResult(TypedDict):
    """One release gate's verdict on a version."""

    gate: str
    kind: str | None
    passed: bool
    value: Any
    threshold: Any
    reason: str


class VersionDetail(ModelVersion):
    """``GET models/{name}/versions/{v}`` (and ``POST models``): the version with its gate
    results and its model card (Markdown)."""

    gate_run_id: str | None
    gate_results: list[GateResult]
    evaluation: dict[str, Any] | None
    champion: dict[str, Any] | None
    card: str | None
    lineage: dict[str, Any] | None
    source_model_id: str | None
    canary_weight: float | None


class RolloutState(TypedDict):
    """The alias state answered by a promotion and a rollback."""

    model: str
    aliases: dict[str, str]
    canary_weight: float


class ReleaseEvent(TypedDict):
    """One entry of a model's release history: who did what, when and why."""

    action: str
    model: str
    version: str | None
    actor: str
    reason: str | None
    ts: float
    details: dict[str, Any]
    state: str
    applied: float | None
    key: str


class ReleaseHistory(TypedDict):
    """``GET models/{name}/history``."""

    model: str
    events: list[ReleaseEvent]


class Approval(TypedDict):
    """A version's approval for a protected alias: ``requested``, ``approved`` or ``rejected``,
    who asked and who decided (the authenticated user), when, and their comments."""

    model: str
    version: str
    alias: str
    state: Literal["requested", "approved", "rejected"]
    requested_by: str | None
    requested_at: float | None
    request_comment: str | None
    decided_by: str | None
    decided_at: float | None
    comment: str | None
    cycle: str | None


class ApprovalList(TypedDict):
    """``GET models/{name}/approvals``: every approval of the model's versions, newest first."""

    model: str
    approvals: list[Approval]
