"""A cycle as it is recorded: one MLflow run per cycle, in the experiment ``<model>-loop``.

The run carries the reason (the trigger and what it saw), the plan it follows (params, fixed at
its start: a mlops.yaml edited meanwhile changes the next cycle, not this one), the record of each
stage so far (tag ``mlops.cycle.stages``, JSON), the version it registered, and its outcome. A
cycle that waits (for an approval, for the canary's watch) stays a RUNNING run whose outcome is
``waiting``: that is the state a restarted loop resumes from. Firings that arrive while it runs
are coalesced into it, one tag each.

Outcomes: ``running`` and ``waiting`` while it lasts; then ``promoted`` (its last alias moved),
``validated`` (its gates passed and no alias was to move), ``unchanged`` (the build produced
the model already released), ``stopped`` (a gate, the guard or
an approver said no: the run is FAILED with the reason) or ``failed`` (an error).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from ..store.gateway import Gateway
from ..tags import (
    ACTOR_TAG,
    CYCLE_BUILD_RUN_TAG,
    CYCLE_COALESCED_PREFIX,
    CYCLE_OUTCOME_TAG,
    CYCLE_REASON_TAG,
    CYCLE_STAGE_TAG,
    CYCLE_STAGES_TAG,
    CYCLE_TRIGGER_TAG,
    KIND_TAG,
    MODEL_TAG,
    MODEL_VERSION_TAG,
)
from .firing import Firing
from .spec import CycleSpec

CYCLE_KIND = "cycle"
STAGES = ("build", "register", "validate", "staging", "canary", "watch", "champion")
ACTIVE = ("running", "waiting")
MAX_NOTE = 400


def experiment_name(model: str) -> str:
    return f"{model}-loop"


@dataclass
class StageRecord:
    """What one stage did: running | waiting | done | skipped | stopped | failed, and a note."""

    stage: str
    status: str
    started: float
    ended: float | None = None
    note: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CyclePlan:
    """The part of ``loop.cycle`` a cycle follows, fixed when it starts."""

    steps: tuple[str, ...] = ()
    register: str | None = None
    promote: tuple[str, ...] = ("staging", "canary", "champion")
    canary_weight: float | None = None
    watch: float = 300.0

    @classmethod
    def of(cls, spec: CycleSpec) -> CyclePlan:
        return cls(spec.steps, spec.register, spec.promote, spec.canary_weight, spec.watch)

    def params(self) -> dict[str, str]:
        return {
            "steps": ",".join(self.steps) or "(all)",
            "register": self.register or "(found)",
            "promote": ",".join(self.promote) or "(none)",
            "canary_weight": "(policy)"
            if self.canary_weight is None
            else f"{self.canary_weight:g}",
            "watch_s": f"{self.watch:g}",
        }

    @classmethod
    def from_params(cls, params: dict[str, str]) -> CyclePlan:
        def listed(key: str, empty: str) -> tuple[str, ...]:
            raw = params.get(key, empty)
            return () if raw == empty else tuple(raw.split(","))

        weight = params.get("canary_weight", "(policy)")
        register = params.get("register", "(found)")
        return cls(
            listed("steps", "(all)"),
            None if register == "(found)" else register,
            listed("promote", "(none)"),
            None if weight == "(policy)" else float(weight),
            float(params.get("watch_s", "300")),
        )


@dataclass
class Cycle:
    run_id: str
    model: str
    trigger: str
    reason: str
    started: float
    plan: CyclePlan
    actor: str = ""
    stages: list[StageRecord] = field(default_factory=list)
    outcome: str = "running"
    version: str | None = None
    build_run: str | None = None
    coalesced: list[dict[str, Any]] = field(default_factory=list)
    ended: float | None = None

    @property
    def active(self) -> bool:
        return self.outcome in ACTIVE

    def stage(self, name: str) -> StageRecord | None:
        return next((s for s in self.stages if s.stage == name), None)

    def begin(self, name: str, now: float | None = None) -> StageRecord:
        """The record of stage ``name``, started now if it was not yet."""
        record = self.stage(name)
        if record is None:
            record = StageRecord(name, "running", now or time.time())
            self.stages.append(record)
        return record

    @property
    def current(self) -> str | None:
        """The stage under way (or the last one)."""
        return self.stages[-1].stage if self.stages else None

    def summary(self) -> str:
        version = f" v{self.version}" if self.version else ""
        last = self.stages[-1] if self.stages else None
        where = f" at {last.stage}: {last.note}" if last and last.note else ""
        return f"cycle {self.run_id[:8]} ({self.trigger}): {self.outcome}{version}{where}"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["plan"] = asdict(self.plan)
        return data


class CycleBook:
    """Cycles of one model, read and written as MLflow runs."""

    def __init__(self, gw: Gateway, model: str) -> None:
        self.gw, self.model = gw, model
        self._experiment: str | None = None

    def experiment(self, create: bool = True) -> str | None:
        if self._experiment is None:
            self._experiment = self.gw.experiment_id(experiment_name(self.model), create=create)
        return self._experiment

    def start(self, firing: Firing, plan: CyclePlan, actor: str) -> Cycle:
        from mlflow.entities import Param

        client = self.gw.client
        exp = self.experiment()
        assert exp is not None
        run = client.create_run(
            exp,
            run_name=f"cycle-{firing.trigger}",
            tags={
                KIND_TAG: CYCLE_KIND,
                MODEL_TAG: self.model,
                CYCLE_TRIGGER_TAG: firing.trigger,
                CYCLE_REASON_TAG: firing.reason[:4000],
                CYCLE_OUTCOME_TAG: "running",
                ACTOR_TAG: actor,
            },
        )
        params = [Param(k, v) for k, v in plan.params().items()]
        params.append(Param("trigger_kind", firing.kind))
        client.log_batch(run.info.run_id, params=params)
        return Cycle(
            run.info.run_id,
            self.model,
            firing.trigger,
            firing.reason,
            run.info.start_time / 1000.0,
            plan,
            actor,
        )

    def save(self, cycle: Cycle) -> None:
        """Write the cycle's state (stage records, outcome, version) onto its run."""
        from mlflow.entities import RunTag

        stages = [asdict(s) | {"note": s.note[:MAX_NOTE]} for s in cycle.stages]
        tags = [
            RunTag(CYCLE_STAGE_TAG, cycle.current or ""),
            RunTag(CYCLE_OUTCOME_TAG, cycle.outcome),
            RunTag(CYCLE_STAGES_TAG, json.dumps(stages, separators=(",", ":"))),
        ]
        if cycle.version:
            tags.append(RunTag(MODEL_VERSION_TAG, cycle.version))
        if cycle.build_run:
            tags.append(RunTag(CYCLE_BUILD_RUN_TAG, cycle.build_run))
        self.gw.client.log_batch(cycle.run_id, tags=tags)

    def finish(self, cycle: Cycle) -> None:
        """Record the outcome and close the run (FAILED when it stopped or failed)."""
        from mlflow.entities import Metric

        cycle.ended = time.time()
        self.save(cycle)
        client = self.gw.client
        ms = int(cycle.ended * 1000)
        metrics = [Metric("cycle.duration_s", cycle.ended - cycle.started, ms, 0)]
        for s in cycle.stages:
            if s.ended is not None:
                metrics.append(Metric(f"cycle.{s.stage}_s", s.ended - s.started, ms, 0))
        client.log_batch(cycle.run_id, metrics=metrics)
        client.log_text(cycle.run_id, json.dumps(cycle.to_dict(), indent=1), "loop/cycle.json")
        status = "FAILED" if cycle.outcome in ("stopped", "failed") else "FINISHED"
        client.set_terminated(cycle.run_id, status)

    def coalesce(self, cycle: Cycle, firing: Firing) -> None:
        """A firing that arrived while ``cycle`` runs joins it (never a second cycle)."""
        key = f"{CYCLE_COALESCED_PREFIX}{int(firing.at * 1000):013d}"
        body = {"trigger": firing.trigger, "reason": firing.reason, "at": firing.at}
        self.gw.client.set_tag(cycle.run_id, key, json.dumps(body)[:4000])
        cycle.coalesced.append(body)

    def _runs(self, filter_string: str, limit: int) -> list[Any]:
        exp = self.experiment(create=False)
        if exp is None:
            return []
        self.gw.before_read()
        return list(
            self.gw.client.search_runs(
                [exp],
                filter_string=f"tags.`{KIND_TAG}` = '{CYCLE_KIND}' and "
                f"tags.`{MODEL_TAG}` = '{self.model}'" + filter_string,
                max_results=limit,
                order_by=["attributes.start_time DESC"],
            )
        )

    def active(self) -> Cycle | None:
        """The cycle under way (running or waiting), if any: the one a firing joins."""
        for run in self._runs(" and attributes.status = 'RUNNING'", 5):
            cycle = load(run)
            if cycle.active:
                return cycle
        return None

    def recent(self, limit: int = 20) -> list[Cycle]:
        """The latest cycles, newest first."""
        return [load(run) for run in self._runs("", limit)]

    def get(self, run_id: str) -> Cycle:
        return load(self.gw.client.get_run(run_id))


def load(run: Any) -> Cycle:
    """A cycle from its run."""
    tags = run.data.tags
    try:
        raw = json.loads(tags.get(CYCLE_STAGES_TAG) or "[]")
        stages = [StageRecord(**s) for s in raw]
    except (ValueError, TypeError):
        stages = []
    coalesced = []
    for key in sorted(k for k in tags if k.startswith(CYCLE_COALESCED_PREFIX)):
        try:
            coalesced.append(json.loads(tags[key]))
        except ValueError:
            continue
    end = run.info.end_time
    return Cycle(
        run.info.run_id,
        tags.get(MODEL_TAG, ""),
        tags.get(CYCLE_TRIGGER_TAG, ""),
        tags.get(CYCLE_REASON_TAG, ""),
        run.info.start_time / 1000.0,
        CyclePlan.from_params(dict(run.data.params)),
        tags.get(ACTOR_TAG, ""),
        stages,
        tags.get(CYCLE_OUTCOME_TAG, "running"),
        tags.get(MODEL_VERSION_TAG),
        tags.get(CYCLE_BUILD_RUN_TAG),
        coalesced,
        end / 1000.0 if end else None,
    )
