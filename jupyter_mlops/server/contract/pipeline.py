"""The pipeline of mlops.yaml, as the sidebar draws it."""

from __future__ import annotations

from typing import Literal

from .base import TypedDict
from .jobs import Job


class PipelineStep(TypedDict):
    """A step of mlops.yaml with its cache status: fresh (cached) or stale, and why."""

    name: str
    notebook: str
    needs: list[str]
    sweep: str | None
    metric: str | None
    fresh: bool
    status: Literal["fresh", "stale"]
    reason: str
    run_id: str | None
    key_metric: tuple[str, float] | None


class Pipeline(TypedDict):
    """``GET pipeline``: the steps, and the build running now (without its log), if any."""

    project: str
    experiment: str
    steps: list[PipelineStep]
    build: Job | None
