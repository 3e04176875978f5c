"""``ci``: what a pull request did to the model, for a PR comment.

It builds the pipeline (with the shared build cache, so a CI runner on the team server rebuilds
only what the branch changed), takes the model the last sweep chose (else the last step's that
logged one; ``step`` picks another), registers it as a candidate (once: a rebuild that changed nothing reuses its version),
validates it with the release gates against the current champion, compares its training data
with the champion's, and writes ``ci-report.md`` with PNG plots beside it. The verdict is the
gates': ``CiOutcome.passed``; the CLI exits non-zero when a gate failed or the build did.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InvalidInput, NotFound
from ..monitor.drift import FeatureDrift, ReferenceProfile
from ..monitor.predlog import INPUT_PREFIX
from ..monitor.reference import training_reference
from ..monitor.thresholds import load_monitor_config
from ..pipeline.build import build
from ..pipeline.graph import topological_order
from ..pipeline.progress import BuildReport
from ..pipeline.spec import load_spec
from ..release.gates.result import GateReport
from ..release.policy import load_policy
from ..release.registration import register
from ..release.rollout import state
from ..release.validation import validate
from ..store.gateway import Gateway
from ..tags import BEST_RUN_ID_TAG
from ..workspace import Workspace

CI_REASON = "ci"


@dataclass
class CiOutcome:
    model: str
    build: BuildReport
    step: str | None = None  # the step whose model is the candidate
    run_id: str | None = None  # the run holding it
    version: str | None = None
    champion: str | None = None
    gates: GateReport | None = None
    drift: dict[str, FeatureDrift] = field(default_factory=dict)
    drift_note: str = ""
    problem: str = ""  # why there is no verdict (a failed build, no model)

    @property
    def passed(self) -> bool:
        return self.build.ok and self.gates is not None and self.gates.passed


def _step_runs(gw: Gateway, report: BuildReport, name: str) -> list[str]:
    """The runs a step's tracked cells are children of: its run, and its sweep's best trial."""
    run_id = report.step(name).run_id
    if not run_id:
        return []
    best = gw.client.get_run(run_id).data.tags.get(BEST_RUN_ID_TAG)
    return [r for r in (best, run_id) if r]


def candidate_run(gw: Gateway, report: BuildReport, step: str | None) -> tuple[str, str]:
    """(step, run id) of the candidate: a finished run with a logged model under the step's run
    (``step``), else under the best trial of the last sweep (the model the sweep chose), else
    under the last step in build order that has one."""
    spec = load_spec(gw.ws)
    needs = {n: list(s.needs) for n, s in spec.steps.items()}
    order = topological_order(needs, [s.name for s in report.steps])
    if step is not None and step not in order:
        raise InvalidInput(
            f"--step {step!r} is not a built step", hint=f"steps: {', '.join(order)}"
        )
    exp_ids = [str(gw.experiment_id(spec.experiment))]
    swept = [n for n in reversed(order) if spec.steps[n].sweep is not None]
    for name in [step] if step else swept + [n for n in reversed(order) if n not in swept]:
        for parent in _step_runs(gw, report, name):
            children = gw.client.search_runs(
                exp_ids,
                filter_string=f"tags.`mlflow.parentRunId` = '{parent}' "
                "AND attributes.status = 'FINISHED'",
                order_by=["attributes.end_time DESC"],
                max_results=50,
            )
            for run in [*children, gw.client.get_run(parent)]:
                if run.outputs and run.outputs.model_outputs:
                    return name, run.info.run_id
    raise NotFound(
        "no step of the build logged a model" + (f" (looked in {step!r})" if step else ""),
        hint="track the training cell with %%mlops track, or name the step with --step",
    )


def _candidate_version(gw: Gateway, model: str, run_id: str) -> str:
    """The version registered from ``run_id`` before (an unchanged rebuild), else a new one."""
    found = gw.client.search_model_versions(f"name = '{model}' AND run_id = '{run_id}'")
    if found:
        return str(max(int(mv.version) for mv in found))
    return str(register(gw, run_id, model, reason=_ci_reason()).version)


def _ci_reason() -> str:
    where = os.environ.get("GITHUB_HEAD_REF") or os.environ.get("CI_COMMIT_REF_NAME")
    return f"{CI_REASON}: {where}" if where else CI_REASON


def training_drift(
    gw: Gateway, model: str, candidate: str, champion: str | None
) -> tuple[dict[str, FeatureDrift], str]:
    """Drift of the candidate's training data against the champion's, per feature."""
    import pyarrow as pa

    if champion is None or champion == candidate:
        return {}, "no champion to compare the training data with"
    ws = gw.ws
    new = training_reference(gw, model, candidate, with_predictions=False)
    old = training_reference(gw, model, champion, with_predictions=False)
    if new.frame is None or old.frame is None:
        return {}, "; ".join(new.notes + old.notes) or "training data not found"
    profile = ReferenceProfile.from_frame(old.frame, old.features or new.features)
    live = pa.Table.from_pandas(new.frame.add_prefix(INPUT_PREFIX), preserve_index=False)
    drift = profile.compare(live, load_monitor_config(ws).drift)
    return drift, f"{new.description} against {old.description}"


def run_ci(
    gw: Gateway, *, model: str | None = None, step: str | None = None, jobs: int | None = None
) -> CiOutcome:
    ws = gw.ws
    name = model or load_policy(ws).model_name
    if not name:
        raise InvalidInput(
            "no model to validate", hint="set release.model in mlops.yaml, or pass --model"
        )
    report = build(workspace=ws, jobs=jobs, progress=False, wait=True)
    outcome = CiOutcome(name, report)
    if not report.ok:
        failed = [s.name for s in report.steps if s.status not in ("cached", "ran")]
        outcome.problem = f"the build failed at {', '.join(failed)}"
        return outcome
    outcome.step, outcome.run_id = candidate_run(gw, report, step)
    version = _candidate_version(gw, name, outcome.run_id)
    outcome.version = version
    outcome.champion = state(gw, name).aliases.get("champion")
    outcome.gates = validate(gw, name, version, reason=_ci_reason())
    outcome.drift, outcome.drift_note = training_drift(gw, name, version, outcome.champion)
    return outcome


def ci_outputs(ws: Workspace, out: str | Path) -> tuple[Path, Path]:
    """(report file, folder of its plots): the plots sit beside the report; a relative path is
    the project's (``ci-report.md`` lands in the project folder)."""
    path = Path(out).expanduser()
    path = (path if path.is_absolute() else ws.root / path).resolve()
    if path.suffix.lower() != ".md":
        raise InvalidInput(f"--out {out}: the report is Markdown, name it *.md")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path, path.parent


def describe(outcome: CiOutcome) -> dict[str, Any]:
    """The outcome in one line's worth of facts (for the terminal)."""
    return {
        "model": outcome.model,
        "version": outcome.version,
        "champion": outcome.champion,
        "passed": outcome.passed,
        "failed": [r.gate for r in outcome.gates.failed] if outcome.gates else [],
    }
