"""Experiments and runs: the Runs page, a run in full, runs side by side."""

from __future__ import annotations

from typing import Any

from .base import TypedDict


class Experiment(TypedDict):
    """An experiment of the workspace (bookkeeping ``mlops-*`` ones are ``internal``)."""

    experiment_id: str
    name: str
    internal: bool
    default: bool


class ExperimentList(TypedDict):
    """``GET experiments``."""

    experiments: list[Experiment]


class RunSummary(TypedDict):
    """One run as ``GET runs`` lists it (times in milliseconds since the epoch)."""

    run_id: str
    name: str | None
    experiment_id: str
    status: str
    start_time: int | None
    end_time: int | None
    kind: str
    params: dict[str, str]
    metrics: dict[str, float]
    tags: dict[str, str]


class RunsPage(TypedDict):
    """``GET runs``: one page, and the token of the next (null on the last)."""

    runs: list[RunSummary]
    next_page_token: str | None


class RunModel(TypedDict):
    """A model a run logged."""

    model_id: str
    uri: str
    name: str


class RunDataset(TypedDict):
    """A dataset a run used."""

    name: str
    digest: str
    context: str | None


class RunDetail(RunSummary):
    """``GET runs/{id}``: a run in full; ``curves`` holds (step, value) of metrics logged more
    than once."""

    curves: dict[str, list[tuple[int, float]]]
    models: list[RunModel]
    datasets: list[RunDataset]
    environment: dict[str, Any] | None
    cell_source: str | None
    notebook_path: str | None


class ComparedRun(TypedDict):
    run_id: str
    name: str | None
    status: str


class ComparisonRow(TypedDict):
    """One key across the compared runs (``values`` in the order of ``runs``)."""

    key: str
    values: list[Any]
    differs: bool


class Comparison(TypedDict):
    """``GET comparisons?run=..&run=..``: runs side by side; ``cell_diff`` compares two tracked
    cells line by line, ``code_diff`` two runs' recorded code cell by cell (as text)."""

    runs: list[ComparedRun]
    params: list[ComparisonRow]
    metrics: list[ComparisonRow]
    environment: list[ComparisonRow]
    cell_diff: list[str] | None
    code_diff: str | None
