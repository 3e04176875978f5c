"""The loop: its triggers, cycles and what waits for an approval."""

from __future__ import annotations

from typing import Any

from .base import TypedDict
from .release import Approval, GateResult


class LoopTrigger(TypedDict):
    """A declared trigger and what it saw last (times in seconds since the epoch)."""

    name: str
    kind: str
    description: str
    next_firing: float | None
    last_fired: float | None
    value: float | None
    holding_since: float | None
    error: str | None


class CycleStage(TypedDict):
    """One stage of a cycle: running, waiting, done, skipped, stopped or failed."""

    stage: str
    status: str
    started: float
    ended: float | None
    note: str
    detail: dict[str, Any]


class LoopCycle(TypedDict):
    """A cycle: why it started, its stages so far and its outcome (running, waiting, promoted,
    validated, unchanged, stopped, failed)."""

    run_id: str
    model: str
    trigger: str
    reason: str
    started: float
    ended: float | None
    outcome: str
    version: str | None
    actor: str
    build_run: str | None
    stages: list[CycleStage]
    coalesced: list[dict[str, Any]]
    plan: dict[str, Any]


class PendingApproval(Approval):
    """An approval waiting for a decision, with what an approver decides on: the version's gate
    results and metrics beside the champion's, and who may approve."""

    registered_by: str | None
    gate_results: list[GateResult]
    metrics: dict[str, float]
    champion: dict[str, Any] | None
    approvers: list[str]
    not_self: bool


class LoopState(TypedDict):
    """``GET loop``: the loop's leader (null when no loop process leads), whether this Jupyter
    server hosts it, its triggers, the cycle under way, the recent cycles (newest first) and the
    approvals waiting."""

    model: str
    poll: float
    leader: str | None
    leader_until: float | None
    hosted: bool
    triggers: list[LoopTrigger]
    active: LoopCycle | None
    cycles: list[LoopCycle]
    pending: list[PendingApproval]


class FiringRequested(TypedDict):
    """``POST loop/firings``: the cycle asked of the leading loop, which takes it at its next
    round."""

    model: str
    trigger: str
    leader: str
