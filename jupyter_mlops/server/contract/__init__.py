"""The REST contract: the JSON body of every answer under ``/jupyter-mlops/api/``, as TypedDicts.

These types are the one source of the API's shapes. The handlers and the query functions they
call return them; ``scripts/gen_contract.py`` turns them into a JSON Schema
(``contract.schema.json`` beside this package), into the response schemas of ``openapi.json``
and into the sidebar's TypeScript interfaces (``labextension/src/contract.ts``), and
``--check`` fails in ``make lint`` when any of those drifted. A test validates real answers of
a real server against the schema, so the types cannot lie about what the server sends.

Change a shape here, then run ``python scripts/gen_contract.py``. Every object is closed (no key
beyond those declared); ``NotRequired`` marks a key the server leaves out when it has no value.
A non-finite float (a NaN metric) is sent as ``null``.
"""

from __future__ import annotations

from .base import ErrorResponse
from .events import DeliveryCounts, EventDelivery, EventStatus, WebhookReceiver
from .jobs import (
    BuildList,
    BuildReport,
    BuildStepReport,
    BuildStopped,
    GateResultDetail,
    Job,
    JobKind,
    JobProgress,
    JobResponse,
    JobStatus,
    JobStep,
    ValidationVerdict,
)
from .lineage import DatasetList, DatasetVersion, LineageEdge, LineageGraph, LineageNode
from .loop import CycleStage, FiringRequested, LoopCycle, LoopState, LoopTrigger, PendingApproval
from .monitor import (
    CanaryVerdict,
    DriftBucket,
    FeatureDrift,
    LabelImport,
    MonitorReport,
    QualityBucket,
    QualitySummary,
    VersionQuality,
)
from .pipeline import Pipeline, PipelineStep
from .release import (
    Approval,
    ApprovalList,
    GateResult,
    ModelList,
    ModelSummary,
    ModelVersion,
    ModelVersions,
    ReleaseEvent,
    ReleaseHistory,
    RolloutState,
    VersionDetail,
)
from .runs import (
    ComparedRun,
    Comparison,
    ComparisonRow,
    Experiment,
    ExperimentList,
    RunDataset,
    RunDetail,
    RunModel,
    RunsPage,
    RunSummary,
)
from .status import JournalCounts, OutboxState, RefusedRecord, Status, StoreInfo

__all__ = [
    "Approval",
    "ApprovalList",
    "BuildList",
    "BuildReport",
    "BuildStepReport",
    "BuildStopped",
    "CanaryVerdict",
    "ComparedRun",
    "Comparison",
    "ComparisonRow",
    "CycleStage",
    "DatasetList",
    "DatasetVersion",
    "DeliveryCounts",
    "DriftBucket",
    "ErrorResponse",
    "EventDelivery",
    "EventStatus",
    "Experiment",
    "ExperimentList",
    "FeatureDrift",
    "FiringRequested",
    "GateResult",
    "GateResultDetail",
    "Job",
    "JobKind",
    "JobProgress",
    "JobResponse",
    "JobStatus",
    "JobStep",
    "JournalCounts",
    "LabelImport",
    "LineageEdge",
    "LineageGraph",
    "LineageNode",
    "LoopCycle",
    "LoopState",
    "LoopTrigger",
    "ModelList",
    "ModelSummary",
    "ModelVersion",
    "ModelVersions",
    "MonitorReport",
    "OutboxState",
    "PendingApproval",
    "Pipeline",
    "PipelineStep",
    "QualityBucket",
    "QualitySummary",
    "RESPONSES",
    "RefusedRecord",
    "ReleaseEvent",
    "ReleaseHistory",
    "RolloutState",
    "RunDataset",
    "RunDetail",
    "RunModel",
    "RunSummary",
    "RunsPage",
    "SHARED",
    "Status",
    "StoreInfo",
    "ValidationVerdict",
    "VersionDetail",
    "VersionQuality",
    "WebhookReceiver",
    "__all__",
]


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
