"""``reproduce RUN``: re-execute a run's recorded code in a fresh kernel and judge the result.

The code is what the run recorded: for a tracked cell, the cells its kernel really executed up to
it (``mlops/history.json``, so hidden state is replayed too); otherwise the saved notebook's code
cells (``mlops/notebook.json``). It runs through papermill with the recorded parameters
(``mlops.param.*`` tags), in the notebook's folder, as children of a new run of kind
``reproduction``. The child that re-recorded the original cell (same cell hash) is compared
with the original: metrics within tolerance, the same dataset digests, the same interpreter and
packages. The verdict (reproduced, differs, failed) and its reasons are tags on both runs and a
JSON artifact on the reproduction run. Registry writes of the re-executed code go to a sandbox
(``registry_sandbox``) and are reported, never applied.
"""

from __future__ import annotations

import ast
import json
import math
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..capture.hidden_state import _names
from ..datasets.cell_inputs import file_source
from ..errors import InvalidInput, NotFound
from ..journal.replay import recover
from ..limits import LINE_TEXT, LIST_TEXT
from ..redact import MASK, RunRedaction, masked_names, redactor_for, remember, restore
from ..settings import child_environment
from ..store.run_details import recorded_code as stored_code
from ..store.runs import get_run
from ..tags import (
    CELL_HASH_TAG,
    KIND_TAG,
    NOTEBOOK_TAG,
    PARAM_PREFIX,
    REPRODUCES_TAG,
    REPRODUCTION_REASONS_TAG,
    REPRODUCTION_REGISTRY_TAG,
    REPRODUCTION_RUN_ID_TAG,
    REPRODUCTION_VERDICT_TAG,
    TAG_PREFIX,
)
from ..workspace import Workspace
from .environment_diff import diff_environments, environment_of
from .registry_sandbox import RegistrySandbox

if TYPE_CHECKING:
    from ..store.gateway import Gateway

EMPTY_GRACE_S = 2.0  # the kernel has exited; its records are in MLflow or its replayed journal
VERDICT_TAG = REPRODUCTION_VERDICT_TAG
LINK_TAG = REPRODUCTION_RUN_ID_TAG
ORIGINAL_TAG = REPRODUCES_TAG
_SKIP_METRIC_PREFIXES = (TAG_PREFIX, "system/")
_INTERACTIVE = (
    "%mlops reproduce",
    "%mlops runs",
    "%mlops show",
    "%mlops lineage",
    "%mlops compare",
)


@dataclass
class Reproduction:
    original_run_id: str
    run_id: str
    verdict: str  # reproduced | differs | failed
    reasons: list[str] = field(default_factory=list)
    metrics: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    packages: str = ""
    matched_run_id: str | None = None
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    # what the re-executed code tried to write to the model registry (kept in a sandbox)
    registry_writes: list[str] = field(default_factory=list)


def _fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:.6g}"


def recorded_code(gw: Gateway, run: Any) -> tuple[list[str], str]:
    """The cells to re-execute and where they came from; NotFound if the run kept no code."""

    run_id = run.info.run_id
    code = stored_code(gw, run_id)
    kind = run.data.tags.get(KIND_TAG, "")
    cells: list[str] | None = None
    origin = ""
    if code["history"] and (kind == "cell" or code["notebook"] is None):
        cells, origin = code["history"], "history"  # hidden state is replayed too
    elif code["notebook"] is not None:
        cells, origin = code["notebook"], "notebook"
    elif code["cell"] is not None:
        cells, origin = ["%load_ext jupyter_mlops", f"%%mlops track\n{code['cell']}"], "cell"
    if not cells:
        raise NotFound(
            f"run {run_id} recorded no notebook or cell code to re-execute",
            hint="reproduce runs recorded with %%mlops track or as pipeline steps",
        )
    cells = [c for c in cells if c.strip() and not c.lstrip().startswith(_INTERACTIVE)]
    return cells, origin


def recorded_parameters(run: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in run.data.tags.items():
        if key.startswith(PARAM_PREFIX):
            try:
                out[key[len(PARAM_PREFIX) :]] = ast.literal_eval(value)
            except (ValueError, SyntaxError):
                out[key[len(PARAM_PREFIX) :]] = value
    return out


def secrets_needed(cells: list[str], params: dict[str, Any]) -> list[str]:
    """Names whose recorded value is ``***`` (the redactor hid it): the code assigned them a
    secret, or a papermill parameter carried one."""
    names = [name for cell in cells for name in masked_names(cell)]
    names += [k for k, v in params.items() if isinstance(v, str) and MASK in v]
    return list(dict.fromkeys(names))


def secrets_from_environment(run_id: str, names: list[str]) -> dict[str, str]:
    """The values of ``names`` from this process's environment (the name as written, else in
    upper case); InvalidInput naming every one that is missing."""
    found: dict[str, str] = {}
    missing = []
    for name in names:
        value = os.environ.get(name) or os.environ.get(name.upper())
        if value:
            found[name] = value
        else:
            missing.append(name)
    if missing:
        raise InvalidInput(
            f"run {run_id} recorded secrets as ***; reproducing it needs "
            f"{', '.join(missing)} in the environment",
            hint=f"set them to the values the run used, e.g. export {missing[0]}=...",
        )
    return found


def _with_secrets(
    cells: list[str], params: dict[str, Any], secrets: dict[str, str]
) -> tuple[list[str], dict[str, Any]]:
    remember(secrets.values())  # hidden again in everything the reproduction records
    cells = [restore(cell, secrets) for cell in cells]
    params = {
        k: secrets[k] if isinstance(v, str) and MASK in v and k in secrets else v
        for k, v in params.items()
    }
    return cells, params


def _notebook(cells: list[str], params: dict[str, Any]) -> Any:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [nbformat.v4.new_code_cell(src) for src in cells]
    if params:  # papermill injects after the cell that first sets a parameter
        for cell in nb.cells:
            if any(_assigns(cell.source, name) for name in params):
                cell.metadata["tags"] = ["parameters"]
                break
    return nb


def _assigns(source: str, name: str) -> bool:
    names = _names(source)
    return bool(names and name in names.sets)


@contextmanager
def _environ(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _working_dir(ws: Workspace, run: Any) -> Path:
    path = run.data.tags.get(NOTEBOOK_TAG) or run.data.tags.get("mlflow.source.name")
    if path:
        p = Path(path)
        p = p if p.is_absolute() else ws.root / p
        if p.parent.is_dir() and ws.contains(p.parent):
            return p.parent
    return ws.root


def _children(gw: Gateway, run_id: str, experiment_id: str, timeout: float) -> list[Any]:
    """Runs recorded under ``run_id``, waiting for the kernel's outbox to flush them."""

    recover(gw.ws)  # the kernel has exited: replay whatever its journal did not send yet
    client = gw.client
    exp_ids = [e.experiment_id for e in client.search_experiments()] or [experiment_id]
    start = time.monotonic()
    while True:
        found = client.search_runs(
            exp_ids, filter_string=f"tags.`mlflow.parentRunId` = '{run_id}'", max_results=500
        )
        waited = time.monotonic() - start
        if found and all(r.info.status != "RUNNING" for r in found):
            return list(found)
        if waited >= timeout or (not found and waited >= EMPTY_GRACE_S):
            return list(found)
        time.sleep(0.2)


def _matching_child(original: Any, children: list[Any]) -> Any | None:
    cell_hash = original.data.tags.get(CELL_HASH_TAG)
    same = [c for c in children if cell_hash and c.data.tags.get(CELL_HASH_TAG) == cell_hash]
    if not same:
        same = [c for c in children if c.info.run_name == original.info.run_name]
    if not same:
        same = [c for c in children if c.data.metrics]
    return max(same, key=lambda r: r.info.start_time or 0) if same else None


def compare_metrics(
    original: dict[str, float], reproduced: dict[str, float], rtol: float, atol: float
) -> tuple[dict[str, tuple[float | None, float | None]], list[str]]:
    table: dict[str, tuple[float | None, float | None]] = {}
    differing = []
    for name, a in sorted(original.items()):
        if name.startswith(_SKIP_METRIC_PREFIXES) or name.endswith(("_duration_s", "_seconds")):
            continue
        b = reproduced.get(name)
        table[name] = (a, b)
        if b is None:
            differing.append(f"metric {name}: missing in the reproduction")
        elif not (
            a == b or (math.isnan(a) and math.isnan(b)) or abs(a - b) <= atol + rtol * abs(a)
        ):
            differing.append(f"metric {name}: {_fmt(a)} -> {_fmt(b)} (beyond tolerance {rtol:g})")
    return table, differing


def _dataset_digests(run: Any) -> dict[str, str]:
    return {
        di.dataset.name: di.dataset.digest
        for di in (run.inputs.dataset_inputs if run.inputs else [])
    }


def changed_input_files(ws: Workspace, run: Any) -> list[str]:
    """Data files the run read whose content changed since (its datasets will differ too)."""

    notes = []
    folder = _working_dir(ws, run)
    for di in run.inputs.dataset_inputs if run.inputs else []:
        try:
            src = json.loads(di.dataset.source or "{}")
        except ValueError:
            continue
        path, recorded = src.get("file"), src.get("file_hash")
        if not path or not recorded:
            continue
        p = Path(path)
        now = file_source(str(p if p.is_absolute() else ws.root / p)) or file_source(
            str(folder / p)
        )
        if now is None:
            notes.append(f"input file {path} is missing now")
        elif now["hash"] != recorded:
            notes.append(
                f"input file {path} changed since the run ({recorded[:8]} -> {now['hash'][:8]}); "
                f"its recorded version is `load_dataset('{di.dataset.digest}')`"
            )
    return sorted(set(notes))


def reproduce(
    gw: Gateway,
    run_ref: str,
    *,
    rtol: float = 1e-6,
    atol: float = 1e-12,
    timeout: float = 600.0,
    check_environment: bool = True,
    kernel_name: str | None = None,
) -> Reproduction:
    """Re-execute ``run_ref``'s code and record a linked reproduction run with the verdict."""

    if rtol < 0 or atol < 0:
        raise InvalidInput("tolerances must be >= 0", hint="e.g. --tolerance 1e-6")
    ws = gw.ws
    original = get_run(gw, run_ref)
    cells, origin = recorded_code(gw, original)
    params = recorded_parameters(original)
    needed = secrets_needed(cells, params)
    secrets = secrets_from_environment(original.info.run_id, needed)
    run_cells, run_params = _with_secrets(cells, params, secrets)
    client = gw.client
    exp_id = original.info.experiment_id
    started = time.monotonic()
    repro = client.create_run(
        exp_id,
        run_name=f"reproduce-{original.info.run_name or original.info.run_id[:8]}",
        tags={KIND_TAG: "reproduction", ORIGINAL_TAG: original.info.run_id},
    )
    rid = repro.info.run_id
    result = Reproduction(original.info.run_id, rid, "failed")
    result.notes = changed_input_files(ws, original)
    if secrets:
        result.notes.append(f"secrets from the environment: {', '.join(secrets)}")
    redaction = RunRedaction(redactor_for(ws.config, ws.config_path))
    with tempfile.TemporaryDirectory(prefix=f"mlops-reproduce-{rid[:8]}-") as tmp:
        # outside .mlops/: the input notebook holds the secrets put back
        src, out = Path(tmp) / "input.ipynb", Path(tmp) / "reproduction.ipynb"
        import nbformat

        nbformat.write(_notebook(run_cells, run_params), src)
        sandbox = RegistrySandbox(Path(tmp))
        error = _execute(gw, original, src, out, run_params, rid, timeout, kernel_name, sandbox.uri)
        if error is not None:
            error = redaction.text(error)
        if out.exists():
            out.write_text(redaction.json_text(out.read_text(encoding="utf-8")), "utf-8")
            client.log_artifact(rid, str(out), "mlops")
        result.registry_writes = sandbox.attempted(ws.tracking_uri)
    children = _children(gw, rid, exp_id, timeout=20.0)
    match = _matching_child(original, children)
    reasons: list[str] = []
    if error is not None:
        reasons.append(error)
    elif match is None:
        reasons.append("the re-executed code recorded no run to compare with")
    else:
        result.matched_run_id = match.info.run_id
        result.metrics, differing = compare_metrics(
            dict(original.data.metrics), dict(match.data.metrics), rtol, atol
        )
        reasons += differing
        before, after = _dataset_digests(original), _dataset_digests(match)
        for name, digest in sorted(before.items()):
            if name in after and after[name] != digest:
                reasons.append(f"dataset {name}: {digest[:8]} -> {after[name][:8]}")
        env_a = environment_of(gw, original.info.run_id)
        env_b = environment_of(gw, match.info.run_id)
        if env_a and env_b:
            diff = diff_environments(env_a, env_b, ("original", "reproduction"))
            if diff.results_may_differ:
                result.packages = diff.package_summary()
                if check_environment:
                    reasons.append(
                        "environment: "
                        + (
                            result.packages
                            or ", ".join(f"{k} {a} -> {b}" for k, (a, b) in diff.system.items())
                        )
                    )
        result.verdict = "differs" if reasons else "reproduced"
    result.reasons = reasons
    result.seconds = time.monotonic() - started
    _record(client, original, result, origin, params, rtol)
    return result


def _execute(
    gw: Gateway,
    original: Any,
    src: Path,
    out: Path,
    params: dict[str, Any],
    rid: str,
    timeout: float,
    kernel_name: str | None,
    registry_uri: str,
) -> str | None:
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from ..kernels import ENCRYPTED_KERNEL_MANAGER  # loads jupyter_client, as papermill does

    ws = gw.ws
    experiment = gw.client.get_experiment(original.info.experiment_id).name
    env = child_environment(
        parent_run_id=rid,
        workspace=ws.root,
        experiment=experiment,
        notebook_path=original.data.tags.get(NOTEBOOK_TAG) or None,
    )
    env["MLFLOW_TRACKING_URI"] = ws.tracking_uri
    env["MLFLOW_REGISTRY_URI"] = registry_uri  # registry writes go to the sandbox
    try:
        with _environ(env):
            papermill.execute_notebook(
                str(src),
                str(out),
                parameters=params or None,
                kernel_name=kernel_name or "python3",
                cwd=str(_working_dir(ws, original)),
                progress_bar=False,
                log_output=False,
                execution_timeout=int(timeout),
                kernel_manager_class=ENCRYPTED_KERNEL_MANAGER,
            )
    except PapermillExecutionError as exc:
        return f"cell {exc.cell_index + 1} raised {exc.ename}: {exc.evalue}"[:LINE_TEXT]
    except Exception as exc:  # kernel died, timeout, missing kernel spec
        return f"execution failed: {type(exc).__name__}: {exc}"[:LINE_TEXT]
    return None


def _record(
    client: Any,
    original: Any,
    result: Reproduction,
    origin: str,
    params: dict[str, Any],
    rtol: float,
) -> None:
    from mlflow.entities import Metric

    rid = result.run_id
    now = int(time.time() * 1000)
    metrics = [Metric(k, b, now, 0) for k, (_, b) in result.metrics.items() if b is not None]
    tags = {
        VERDICT_TAG: result.verdict,
        REPRODUCTION_REASONS_TAG: " | ".join(result.reasons)[:LIST_TEXT],
    }
    if result.registry_writes:
        tags[REPRODUCTION_REGISTRY_TAG] = " | ".join(result.registry_writes)[:4900]
    client.log_batch(rid, metrics=metrics, tags=[_tag(k, v) for k, v in tags.items()])
    report = {**asdict(result), "code_origin": origin, "parameters": params, "rtol": rtol}
    client.log_text(rid, json.dumps(report, indent=1, default=str), "mlops/reproduction.json")
    client.set_terminated(rid, "FAILED" if result.verdict == "failed" else "FINISHED")
    client.set_tag(original.info.run_id, VERDICT_TAG, result.verdict)
    client.set_tag(original.info.run_id, LINK_TAG, rid)


def _tag(key: str, value: str) -> Any:
    from mlflow.entities import RunTag

    return RunTag(key, value)
