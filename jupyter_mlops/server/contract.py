"""The REST contract: the JSON body of every answer under ``/jupyter-mlops/api/``, as TypedDicts.

These types are the one source of the API's shapes. The handlers and the query functions they
call return them; ``scripts/gen_contract.py`` turns them into a JSON Schema
(``contract.schema.json`` beside this module), into the response schemas of ``openapi.json``
and into the sidebar's TypeScript interfaces (``labextension/src/contract.ts``), and
``--check`` fails in ``make lint`` when any of those drifted. A test validates real answers of
a real server against the schema, so the types cannot lie about what the server sends.

Change a shape here, then run ``python scripts/gen_contract.py``. Every object is closed (no key
beyond those declared); ``NotRequired`` marks a key the server leaves out when it has no value.
A non-finite float (a NaN metric) is sent as ``null``.
"""

from __future__ import annotations

import sys
from typing import Any, Literal

if sys.version_info >= (3, 12):
    from typing import NotRequired, TypedDict
else:  # the schema generator (pydantic) reads only typing_extensions' TypedDict before 3.12
    from typing_extensions import NotRequired, TypedDict

# -- errors ----------------------------------------------------------------------------------


class ErrorResponse(TypedDict):
    """The body of every error answer: what went wrong and how to fix it."""

    error: str
    hint: str | None
    error_id: NotRequired[str]  # an unexpected error: the server log's entry for it


# -- runs ------------------------------------------------------------------------------------


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


# -- datasets and lineage --------------------------------------------------------------------


class DatasetVersion(TypedDict):
    """A registered version of a dataset (``ref`` is NAME@VERSION)."""

    ref: str
    name: str
    version: int | None
    digest: str
    rows: int | None
    columns: int | None
    created: int
    run_id: str
    source: dict[str, Any]


class DatasetList(TypedDict):
    """``GET datasets?name=``."""

    datasets: list[DatasetVersion]


class LineageNode(TypedDict):
    id: str
    kind: str
    label: str
    detail: str


# "from" is a Python keyword: the functional form names it
LineageEdge = TypedDict("LineageEdge", {"from": str, "to": str, "relation": str})


class LineageGraph(TypedDict):
    """``GET lineage?node=REF``: the graph around ``focus``."""

    focus: str
    nodes: list[LineageNode]
    edges: list[LineageEdge]


# -- models and their release ----------------------------------------------------------------


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


# -- the loop --------------------------------------------------------------------------------


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


# -- jobs: builds and validations ------------------------------------------------------------

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


# -- pipeline and monitoring -----------------------------------------------------------------


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


class FeatureDrift(TypedDict):
    """How far one feature (or the predictions) drifted from the reference data, and why it
    counts as drifted; ``kind`` is numeric, categorical or skipped."""

    feature: str
    kind: str
    n_ref: int
    n_live: int
    psi: float | None
    ks: float | None
    ks_pvalue: float | None
    chi2: float | None
    chi2_pvalue: float | None
    missing_rate_ref: float
    missing_rate_live: float
    unseen_rate: float
    unseen_values: list[str]
    drifted: bool
    reasons: list[str]
    note: str | None


class CanaryVerdict(TypedDict):
    """The canary guard's verdict: none, wait, keep, rollback or alert, and why."""

    model: str
    decision: str
    canary: str | None
    champion: str | None
    reasons: list[str]
    canary_health: dict[str, Any] | None
    champion_health: dict[str, Any] | None
    prediction_psi: float | None
    acted: bool


class DriftBucket(TypedDict):
    """One time bucket of the monitored inputs: the PSI of each feature."""

    bucket_start: float
    rows: int
    psi: dict[str, float]


class VersionQuality(TypedDict):
    """One version's quality from late labels: how many of its predictions have a label, and
    the figures (accuracy, precision, recall, auc; or mae, rmse) over them."""

    labeled: int
    metrics: dict[str, float]


class QualityBucket(VersionQuality):
    """One version's quality in one time bucket (by when the predictions were made)."""

    bucket_start: float
    version: str


class QualitySummary(TypedDict):
    """Quality of the window's predictions that have late labels: per version (``all``: every
    version that served, shadow excluded) and over time; ``coverage`` is labeled / predictions."""

    task: Literal["classification", "regression"] | None
    labels: int
    predictions: int
    labeled: int
    coverage: float | None
    by_version: dict[str, VersionQuality]
    over_time: list[QualityBucket]


class LabelImport(TypedDict):
    """``POST monitor/{model}/labels``: how many labels came, how many met a logged prediction,
    the file they are kept in (None: the same labels came before) and their quality per version."""

    model: str
    source: str
    rows: int
    matched: int
    unmatched: int
    skipped: int
    file: str | None
    shipped: bool
    quality: dict[str, VersionQuality]
    problems: list[str]


class MonitorReport(TypedDict):
    """``GET monitor/{model}``: health per version and drift per feature of the served model,
    over a window (``since`` / ``until`` in seconds since the epoch). ``health`` and
    ``health_over_time`` rows are records of numbers by name (requests, error_rate,
    latency_p95_ms...), which the sidebar reads by field name."""

    model: str
    since: float
    until: float
    aliases: dict[str, str]
    reference_version: str | None
    reference: str
    live_rows: int
    health: dict[str, dict[str, Any]]
    drift: dict[str, FeatureDrift]
    drifted: list[str]
    prediction_drift: FeatureDrift | None
    drift_over_time: list[DriftBucket]
    health_over_time: list[dict[str, Any]]
    canary: CanaryVerdict | None
    quality: QualitySummary | None
    problems: list[str]
    alerts: list[str]
    run_id: str | None


# -- status and the journal ------------------------------------------------------------------


class StoreInfo(TypedDict):
    """The store in use: ``embedded`` or the URI's scheme, and the URI without any password."""

    kind: str
    uri: str


class JournalCounts(TypedDict):
    """Records of the workspace's journals waiting for MLflow (``pending``) and refused by it
    (``failed``); a journal that cannot be read right now counts in ``unreadable``."""

    pending: int
    failed: int
    journals: int
    unreadable: int


class Status(TypedDict):
    """``GET status``."""

    store: StoreInfo
    journal: JournalCounts


class RefusedRecord(TypedDict):
    """A journal record MLflow refused, with its reason."""

    journal: str
    seq: int
    kind: str
    run_key: str
    error: str | None
    failed: float | str | None


class OutboxState(JournalCounts):
    """``GET outbox``: the journal's counts and its refused records (at most 50)."""

    refused: list[RefusedRecord]


# -- events out (webhooks) ---------------------------------------------------------------------


class WebhookReceiver(TypedDict):
    """A receiver declared under ``events.webhooks``: where it posts (no path or token), the
    kinds and models it takes (empty: all), and why it cannot be called from here, if so."""

    name: str
    target: str
    format: Literal["json", "slack"]
    events: list[str]
    models: list[str]
    signed: bool
    problem: str | None


class DeliveryCounts(TypedDict):
    pending: int
    delivered: int
    failed: int


class EventDelivery(TypedDict):
    """One event on its way to one receiver: its state, attempts, the last answer (HTTP
    status) and error, when the next attempt is due (pending) and when it was delivered."""

    event_id: str
    kind: str
    model: str | None
    text: str
    ts: float
    receiver: str
    state: Literal["pending", "delivered", "failed"]
    attempts: int
    next_try: float | None
    last_try: float | None
    status: int | None
    error: str | None
    delivered: float | None


class EventStatus(TypedDict):
    """``GET events``: the declared receivers and the newest deliveries, newest first."""

    receivers: list[WebhookReceiver]
    counts: DeliveryCounts
    deliveries: list[EventDelivery]
    agent_running: bool
    retried: int
    problems: list[str]


# What each route answers on success, by "METHOD /path" as openapi.json writes it: the generator
# fills the document's success responses from this, and the contract test checks real answers.
RESPONSES: dict[str, type] = {
    "GET /experiments": ExperimentList,
    "GET /runs": RunsPage,
    "GET /runs/{run_id}": RunDetail,
    "GET /comparisons": Comparison,
    "GET /datasets": DatasetList,
    "GET /lineage": LineageGraph,
    "GET /models": ModelList,
    "POST /models": VersionDetail,
    "GET /models/{name}/versions": ModelVersions,
    "GET /models/{name}/versions/{version}": VersionDetail,
    "POST /models/{name}/versions/{version}/validations": JobResponse,
    "GET /models/{name}/versions/{version}/validations/{job_id}": JobResponse,
    "PUT /models/{name}/aliases/{alias}": RolloutState,
    "POST /models/{name}/rollbacks": RolloutState,
    "GET /models/{name}/history": ReleaseHistory,
    "GET /models/{name}/approvals": ApprovalList,
    "PUT /models/{name}/versions/{version}/approvals/{alias}": Approval,
    "GET /loop": LoopState,
    "POST /loop/firings": FiringRequested,
    "GET /pipeline": Pipeline,
    "GET /builds": BuildList,
    "POST /builds": JobResponse,
    "GET /builds/{job_id}": JobResponse,
    "DELETE /builds/{job_id}": JobResponse,
    "GET /monitor/{model}": MonitorReport,
    "POST /monitor/{model}/labels": LabelImport,
    "GET /events": EventStatus,
    "GET /status": Status,
    "GET /outbox": OutboxState,
}

# Types the sidebar uses that no route answers at top level (every other one is reached from
# RESPONSES); listed so each gets its own named schema and interface.
SHARED: tuple[type, ...] = (ErrorResponse, ValidationVerdict, BuildReport, BuildStopped)
