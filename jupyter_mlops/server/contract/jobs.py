"""Jobs: builds and validations running on the server."""

from __future__ import annotations

from typing import Any, Literal

from .base import ErrorResponse, NotRequired, TypedDict
from .release import GateResult

JobKind = Literal["build", "validation"]
JobStatus = Literal["queued", "running", "cancelling", "succeeded", "failed", "cancelled"]


class JobStep(TypedDict):
    """A step of a build job, with its log lines (left out of job lists)."""

    name: str
    status: str
    log: NotRequired[list[str]]
    reason: NotRequired[str]
    run_id: NotRequired[str]
    duration: NotRequired[float]
    error: NotRequired[dict[str, Any]]


class JobProgress(TypedDict):
    done: int
    total: int | None


class GateResultDetail(GateResult):
    """A gate's verdict with the gate's own details, as a validation job reports it."""

    details: dict[str, Any]


class ValidationVerdict(TypedDict):
    """A validation job's ``result``: every release gate's verdict on the version."""

    model: str
    version: str
    passed: bool
    failed: list[str]
    run_id: str | None
    results: list[GateResultDetail]


class BuildStepReport(TypedDict):
    """How a step of a build ended (cached, ran, failed, skipped, killed) and why."""

    name: str
    status: str
    reason: str
    run_id: str | None
    duration: float
    metric: tuple[str, float] | None
    trials: int
    error: dict[str, Any] | None
    metrics: dict[str, float]


class BuildReport(TypedDict):
    """A build job's ``result``: each step's outcome, and the build's table as text."""

    steps: list[BuildStepReport]
    pipeline_run_id: str | None
    duration: float
    ok: bool
    table: str
    exit_code: int
    cancelled: NotRequired[bool]


class BuildStopped(TypedDict):
    """A build job's ``result`` when it was interrupted before it could report."""

    cancelled: bool
    exit_code: int


class Job(TypedDict):
    """A long-running job (a build or a validation) as the server reports it; once it
    succeeded, ``result`` is a ``BuildReport`` (or ``BuildStopped``) or a ``ValidationVerdict``."""

    id: str
    kind: JobKind
    title: str
    owner: str | None
    status: JobStatus
    created: float
    started: float | None
    finished: float | None
    progress: JobProgress
    steps: list[JobStep]
    result: Any
    error: ErrorResponse | None
    log: NotRequired[list[str]]


class JobResponse(TypedDict):
    """A job started, polled or cancelled (``POST builds``, ``GET builds/{id}``...)."""

    job: Job


class BuildList(TypedDict):
    """``GET builds``: recent builds, newest first, without their logs."""

    builds: list[Job]
