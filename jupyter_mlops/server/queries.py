"""What each REST route answers, as plain functions over the domain layer (no Tornado here).

Each function takes the workspace and already-parsed arguments, calls the domain modules
(``store``, ``datasets``, ``lineage``, ``pipeline``, ``release``, ``monitor``) and shapes their
answer as the TypedDicts of ``contract/``, the REST contract. Nothing here reimplements a
domain decision; it only selects fields.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from pathlib import Path
from typing import Any, cast
from urllib.parse import unquote

from ..commands.texts import code_diff_text
from ..datasets.versions import list_versions
from ..errors import InvalidInput, NotFound
from ..lineage.query import lineage as query
from ..pipeline.build import build
from ..pipeline.spec import load_spec
from ..release.gates.result import recorded_report
from ..release.history import events
from ..release.registered_model import T_GATE_RUN
from ..release.registration import check_name, get_version
from ..release.rollout import state
from ..store.gateway import Gateway
from ..store.run_compare import compare_runs
from ..store.run_details import read_text_artifact, run_detail
from ..store.runs import INTERNAL_PREFIX, run_summary, search
from ..tags import (
    CARD_RUN_ID_TAG,
    GATES_TAG,
    LINEAGE_TAG,
    METRIC_PREFIX,
    MODEL_ID_TAG,
    NOTEBOOK_TAG,
    REGISTERED_BY_TAG,
    ROLLED_BACK_TAG,
)
from ..workspace import Workspace
from . import contract

METRIC_TAG = METRIC_PREFIX
_STEP = re.compile(r"^[A-Za-z_][\w-]{0,63}$")


# -- runs ------------------------------------------------------------------------------------


def experiments(gw: Gateway) -> list[contract.Experiment]:
    """The workspace's experiments (bookkeeping ``mlops-*`` ones last)."""

    found = gw.client.search_experiments()
    rows: list[contract.Experiment] = [
        {
            "experiment_id": e.experiment_id,
            "name": e.name,
            "internal": e.name.startswith(INTERNAL_PREFIX),
            "default": e.name == gw.ws.default_experiment,
        }
        for e in found
    ]
    return sorted(rows, key=lambda r: (r["internal"], r["name"].lower()))


def runs_page(
    gw: Gateway,
    *,
    experiment: str | None,
    limit: int,
    page_token: str | None,
    order_by: list[str],
    filter_string: str,
) -> contract.RunsPage:
    """One page of runs with everything the table shows, and the token of the next page."""

    found, token = search(
        gw,
        experiment=experiment,
        filter_string=filter_string,
        order_by=order_by or None,
        limit=limit,
        page_token=page_token,
    )
    if isinstance(token, bytes):  # MLflow's SQL store hands out bytes, its REST client str
        token = token.decode("ascii")
    runs = [cast(contract.RunSummary, run_summary(r)) for r in found]
    return {"runs": runs, "next_page_token": token or None}


def run(gw: Gateway, run_id: str) -> contract.RunDetail:
    detail = cast(contract.RunDetail, run_detail(gw, run_id))
    notebook = detail["tags"].get(NOTEBOOK_TAG)
    detail["notebook_path"] = workspace_relative(gw.ws, notebook) if notebook else None
    return detail


def comparison(gw: Gateway, run_ids: list[str]) -> contract.Comparison:
    """Runs side by side; the code diff (a ``CodeDiff``) is sent as its text."""

    if len(run_ids) > 10:
        raise InvalidInput("compare at most 10 runs at once", hint="select fewer runs")
    table = compare_runs(gw, run_ids)
    code_diff = table["code_diff"]
    table["code_diff"] = None if code_diff is None else code_diff_text(code_diff)
    return cast(contract.Comparison, table)


def workspace_relative(ws: Workspace, path: str) -> str | None:
    """``path`` relative to the workspace root when it lies inside it (else None: not openable)."""
    candidate = Path(path)
    if not candidate.is_absolute():
        candidate = ws.root / candidate
    try:
        return candidate.resolve().relative_to(ws.root.resolve()).as_posix()
    except (ValueError, OSError):
        return None


# -- datasets and lineage --------------------------------------------------------------------


def datasets(gw: Gateway, name: str | None) -> list[contract.DatasetVersion]:
    return [
        {
            "ref": v.ref,
            "name": v.name,
            "version": v.version,
            "digest": v.digest,
            "rows": v.rows,
            "columns": v.columns,
            "created": v.created,
            "run_id": v.run_id,
            "source": v.source,
        }
        for v in list_versions(gw, name)
    ]


def safe_lineage_ref(ws: Workspace, ref: str) -> str:
    """A lineage reference that cannot make the server read a file outside the workspace.

    The lineage query accepts ``file:PATH`` and bare existing paths (resolved against the
    server's current folder); here a path must be relative and stay inside the workspace, and is
    handed on as ``file:`` + its absolute location inside it.
    """
    if not isinstance(ref, str) or not ref.strip() or len(ref) > 1000:
        raise InvalidInput("lineage needs ?node=REF", hint="a run id, NAME@VERSION, models:/NAME/V")
    ref = ref.strip()
    decoded = ref
    for _ in range(3):  # double- and triple-encoded payloads end up decoded here
        decoded = unquote(decoded)
    if "\x00" in decoded:
        raise InvalidInput("lineage reference contains a NUL byte")
    prefix, sep, rest = decoded.partition(":")
    is_file = prefix == "file" and sep
    path_text = rest if is_file else decoded
    pathlike = is_file or "\\" in path_text or ".." in path_text or path_text.startswith(("/", "~"))
    if decoded.startswith("models:/") and ".." not in decoded:
        return decoded
    if not pathlike:
        if "/" in decoded and not re.fullmatch(r"[\w.-]+/\d+", decoded):
            raise InvalidInput(f"{ref!r} is not a lineage reference", hint="models:/NAME/VERSION")
        return decoded
    candidate = Path(path_text)
    if candidate.is_absolute() or path_text.startswith("~") or ".." in candidate.parts:
        raise InvalidInput(
            f"{ref!r} points outside the project",
            hint="give a data file as file:PATH relative to the project folder",
        )
    target = (ws.root / candidate).resolve()
    if not ws.contains(target):
        raise InvalidInput(f"{ref!r} points outside the project")
    if not target.is_file():
        raise NotFound(f"no file {path_text!r} in the project")
    return f"file:{target}"


def lineage(gw: Gateway, ref: str, direction: str) -> contract.LineageGraph:
    graph = query(gw, safe_lineage_ref(gw.ws, ref), direction=direction)
    return cast(contract.LineageGraph, graph.to_dict())


# -- models ----------------------------------------------------------------------------------


def models(gw: Gateway) -> list[contract.ModelSummary]:
    out: list[contract.ModelSummary] = []
    for rm in gw.client.search_registered_models(max_results=1000):
        st = state(gw, rm.name)
        out.append(
            {
                "name": rm.name,
                "aliases": st.aliases,
                "canary_weight": st.canary_weight,
                "shadow": st.shadow,
                "description": rm.description or "",
                "updated": rm.last_updated_timestamp,
            }
        )
    return sorted(out, key=lambda m: m["name"].lower())


def _version_row(mv: Any, by_version: dict[str, list[str]]) -> contract.ModelVersion:
    tags = dict(mv.tags or {})
    return {
        "name": mv.name,
        "version": str(mv.version),
        "run_id": mv.run_id,
        "status": mv.status,
        "created": mv.creation_timestamp,
        "aliases": sorted(by_version.get(str(mv.version), [])),
        "gates": tags.get(GATES_TAG, "pending"),
        "rolled_back": tags.get(ROLLED_BACK_TAG) == "true",
        "registered_by": tags.get(REGISTERED_BY_TAG),
        "metrics": {k[len(METRIC_TAG) :]: v for k, v in tags.items() if k.startswith(METRIC_TAG)},
    }


def _aliases_by_version(aliases: dict[str, str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for alias, version in aliases.items():
        out.setdefault(str(version), []).append(alias)
    return out


def versions(gw: Gateway, name: str) -> contract.ModelVersions:
    st = state(gw, name)  # validates the name; NotFound for an unknown model
    found = gw.client.search_model_versions(f"name = '{name}'", max_results=1000)
    by_version = _aliases_by_version(st.aliases)
    rows = [_version_row(mv, by_version) for mv in found]
    rows.sort(key=lambda r: int(r["version"]), reverse=True)
    return {
        "model": name,
        "aliases": st.aliases,
        "canary_weight": st.canary_weight,
        "shadow": st.shadow,
        "versions": rows,
    }


def version(gw: Gateway, name: str, number: str) -> contract.VersionDetail:
    """A version with its aliases, each gate's result and its model card (Markdown, as text)."""

    mv = get_version(gw, name, number)
    st = state(gw, name)
    row = _version_row(mv, _aliases_by_version(st.aliases))
    tags = dict(mv.tags or {})
    report = recorded_report(gw, mv)
    gates: list[contract.GateResult] = [
        {
            "gate": r.gate,
            "kind": r.kind or None,
            "passed": r.passed,
            "value": r.value,
            "threshold": r.threshold,
            "reason": r.reason,
        }
        for r in (report.results if report else [])
    ]
    card_run = tags.get(CARD_RUN_ID_TAG)
    card = read_text_artifact(gw, card_run, "card/model_card.md") if card_run else None
    try:
        lineage_tag = json.loads(tags.get(LINEAGE_TAG) or "null")
    except ValueError:
        lineage_tag = None
    return {
        **row,
        "gate_run_id": tags.get(T_GATE_RUN),
        "gate_results": gates,
        "evaluation": report.evaluation or None if report else None,
        "champion": report.champion or None if report else None,
        "card": card,
        "lineage": lineage_tag if isinstance(lineage_tag, dict) else None,
        "source_model_id": tags.get(MODEL_ID_TAG),
        "canary_weight": st.canary_weight if "canary" in row["aliases"] else None,
    }


def history(gw: Gateway, name: str) -> list[contract.ReleaseEvent]:
    return [cast(contract.ReleaseEvent, asdict(e)) for e in events(gw, name)]


# -- pipeline and monitoring -----------------------------------------------------------------


def pipeline(ws: Workspace) -> contract.Pipeline:
    """The steps of mlops.yaml, each with its cache status (fresh or stale, and why); ``build``
    is left to the handler, which knows the jobs."""

    spec = load_spec(ws)
    dry = {s.name: s for s in build(workspace=ws, dry_run=True, progress=False).steps}
    steps: list[contract.PipelineStep] = []
    for name, step in spec.steps.items():
        report = dry.get(name)
        fresh = report is not None and report.status == "up to date"
        steps.append(
            {
                "name": name,
                "notebook": step.notebook,
                "needs": list(step.needs),
                "sweep": step.sweep.method if step.sweep else None,
                "metric": step.key_metric,
                "fresh": fresh,
                "status": "fresh" if fresh else "stale",
                "reason": report.reason if report else "",
                "run_id": report.run_id if report else None,
                "key_metric": report.metric if report else None,
            }
        )
    return {"project": spec.project, "experiment": spec.experiment, "steps": steps, "build": None}


def check_steps(ws: Workspace, steps: Any) -> list[str]:
    """Step names given in a build request: identifiers declared in mlops.yaml."""

    if steps is None:
        return []
    if not isinstance(steps, list) or not all(isinstance(s, str) for s in steps):
        raise InvalidInput("steps must be a list of step names")
    known = load_spec(ws).steps
    for step in steps:
        if not _STEP.match(step) or step not in known:
            raise NotFound(
                f"no step {step!r} in mlops.yaml", hint=f"steps: {', '.join(known) or 'none'}"
            )
    return steps


def monitor(gw: Gateway, name: str, window: str | None) -> contract.MonitorReport:
    """The served model's health and drift over ``window``, computed now (not recorded)."""
    from ..monitor.report import build_report  # noqa: PLC0415 -- monitor loads numpy; the server starts without it
    from ..monitor.thresholds import parse_duration  # noqa: PLC0415 -- monitor loads numpy; the server starts without it

    check_name(name)
    span = parse_duration(window, "window") if window else None
    report = build_report(gw, name, window=span, record=False)
    return cast(contract.MonitorReport, report.to_dict())
