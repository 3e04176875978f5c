"""How pipeline, step and trial runs reach MLflow: the one module to change to route them elsewhere.

Build runs go through the tracking outbox (``capture.tracker.RunRecorder``): every record is a
local journal append (well under a millisecond) and the process's flusher sends it to MLflow in
the background, while kernels run. That keeps MLflow round trips off a step's critical path: a
step costs what papermill costs. A killed build loses nothing either: its journal is replayed
(and its open runs marked FAILED) by the next process that tracks in the workspace.

The one thing a build wants from MLflow early is a run's id, for the kernel's
``MLOPS_PARENT_RUN_ID`` (the notebook's own tracked cells become its children). The local
executor asks for it only once the kernel has started (``runner.NotebookTask.env_hook``), so
creating the run overlaps the kernel's start. When the tracking server is unreachable the build
does not wait: ``RunHandle.run_id_or_key`` gives the run's journal key instead, the kernel gets
``MLOPS_PARENT_KEY``, and the replayer links parent and child when the journals land.

A plain ``papermill --engine mlops`` run (``engine_tracking.py``) uses the ``direct_*`` functions
instead: synchronous calls, so that a broken store is a warning before the notebook starts and
never a journal left behind by a one-off command.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..capture.tracker import RunRecorder, sink_for
from ..errors import StoreUnavailable
from ..journal.run_leases import RunLease
from ..limits import MAX_KEY
from ..store.identity import acting_user
from ..tags import KIND_TAG, SWEEP_KEY_TAG, TRIAL_TAG
from ..workspace import Workspace

if TYPE_CHECKING:
    from ..store.gateway import Gateway


MAX_PARAM = 6000
MAX_TAG = 8000
RUN_ID_POLL = 0.005
RUN_ID_WAIT = 60.0  # normally tens of ms; a first build also waits for the agent to start
_leases: dict[str, RunLease] = {}  # direct runs this process has open (see journal/run_leases.py)

# code that may create tracked runs in the kernel (children of the step run)
_TRACKING_CODE = re.compile(
    r"%%?mlops|load_ext\s+jupyter_mlops|\btrack\(|\blog_metrics?\(|\blog_model\(|\bstart_run\("
)


def _param_value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return text[:MAX_PARAM]


def _tag_values(tags: dict[str, Any]) -> dict[str, str]:
    return {k: str(v)[:MAX_TAG] for k, v in tags.items() if v is not None}


class RunHandle:
    """One pipeline, step or trial run, recorded through the tracking outbox."""

    def __init__(self, recorder: RunRecorder, experiment: str) -> None:
        self._rec = recorder
        self.experiment = experiment
        self._run_id: str | None = None

    @property
    def key(self) -> str:
        return self._rec.key

    def run_id(self, timeout: float = 60.0) -> str:
        """The MLflow run id; waits (briefly, normally) for the flusher to create the run."""
        if self._run_id is not None:
            return self._run_id
        # the flusher, woken when the run started, normally creates it within milliseconds
        run_id = self._rec.run_id
        deadline = time.monotonic() + min(2.0, timeout)
        while run_id is None and time.monotonic() < deadline:
            time.sleep(RUN_ID_POLL)
            run_id = self._rec.run_id
        if run_id is None:  # the flusher is busy or backing off: flush on this thread
            run_id = self._rec.wait_run_id(timeout)
        self._run_id = run_id
        return run_id

    def run_id_or_key(self, wait: float = RUN_ID_WAIT) -> tuple[str | None, str]:
        """(run id, journal key): the id once MLflow has the run, else None. Waits up to
        ``wait``, but no longer once the replayer said MLflow does not answer: a build goes on
        without the id then; the run is journaled under its key, and links made by key are
        resolved when the journal lands."""
        began = time.time()
        deadline = time.monotonic() + wait
        run_id = self.known_run_id
        while run_id is None and time.monotonic() < deadline:
            if self._rec.store_error(began):
                break
            self._rec.keep_landing()  # an agent that stopped idle meanwhile is started again
            time.sleep(RUN_ID_POLL * 4)
            run_id = self.known_run_id
        return run_id, self.key

    @property
    def known_run_id(self) -> str | None:
        """The run id if it is already known, without waiting."""
        if self._run_id is None:
            self._run_id = self._rec.run_id
        return self._run_id

    def log_params(self, params: dict[str, Any]) -> None:
        if params:
            self._rec.log_params({str(k)[:MAX_KEY]: _param_value(v) for k, v in params.items()})

    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        if metrics:
            self._rec.log_metrics(
                {str(k)[:MAX_KEY]: float(v) for k, v in metrics.items()}, step=step
            )

    def log_history(self, history: list[dict[str, Any]]) -> None:
        """Stepped metric values as the notebook reported them (curves), one record per step."""
        by_step: dict[int, dict[str, float]] = {}
        for h in history:
            by_step.setdefault(int(h.get("step") or 0), {})[str(h["key"])[:MAX_KEY]] = float(
                h["value"]
            )
        for step, values in sorted(by_step.items()):
            self._rec.log_metrics(values, step=step)

    def set_tags(self, tags: dict[str, Any]) -> None:
        values = _tag_values(tags)
        if values:
            self._rec.set_tags(values)

    def link_runs(self, tag_runs: dict[str, tuple[str | None, str | None]]) -> None:
        """Tags naming other runs, given as (run id, journal key): by id when it is known, else
        by key (a run recorded while the server was down), filled in when both have landed."""
        self.set_tags({tag: rid for tag, (rid, _) in tag_runs.items() if rid})
        by_key = {tag: key for tag, (rid, key) in tag_runs.items() if not rid and key}
        if by_key:
            self._rec.set_tags_by_run_key(by_key)

    def log_artifact(self, path: Path, artifact_path: str | None = None) -> None:
        self._rec.log_artifact(path, artifact_path)

    def redact_notebook(self, notebook_json: str) -> str:
        """An executed notebook's JSON through this run's redactor (before it is kept under
        ``.mlops/`` or logged)."""
        return self._rec.redaction.json_text(notebook_json)

    def log_text(self, text: str, artifact_file: str) -> None:
        self._rec.log_text(text, artifact_file)

    def end(self, status: str) -> None:
        self._rec.end(status)

    @property
    def ended(self) -> bool:
        return self._rec.status is not None


def start_run(
    ws: Workspace,
    *,
    name: str,
    kind: str,
    experiment: str | None = None,
    parent: RunHandle | None = None,
    tags: dict[str, Any] | None = None,
    params: dict[str, Any] | None = None,
) -> RunHandle:
    """Open a run in the journal (no MLflow round trip); children name their parent's key."""

    experiment = experiment or ws.default_experiment
    rec = RunRecorder(  # sets mlflow.user itself
        ws,
        name=name,
        experiment=experiment,
        tags=_tag_values(tags or {}),
        kind=kind,
        # without a parent handle the recorder takes MLOPS_PARENT_RUN_ID: a build started in a
        # step's kernel nests under that step
        parent_key=parent.key if parent is not None else None,
    )
    rec.start()
    handle = RunHandle(rec, experiment)
    handle.log_params(params or {})
    return handle


def flush(ws: Workspace, timeout: float = 60.0) -> None:
    """Send every journaled record of this process to MLflow now (tests, ``build(wait=True)``)."""

    sink = sink_for(ws)
    result = sink.flush_now(time.monotonic() + timeout)
    if result.pending:
        raise StoreUnavailable(
            f"{result.pending} build records are journaled but not yet in MLflow"
            + (f" ({result.error})" if result.error else ""),
            hint="they are sent in the background; `jupyter-mlops sync` sends them now",
        )


class LandedRun:
    """A run already in MLflow (a sweep trial run by another build), used where a ``RunHandle``
    is: its id, and tags written straight to MLflow."""

    def __init__(self, gw: Gateway, run_id: str) -> None:
        self.gw, self._run_id = gw, run_id

    @property
    def known_run_id(self) -> str:
        return self._run_id

    def run_id_or_key(self, wait: float = 0.0) -> tuple[str | None, str]:
        return self._run_id, ""

    def set_tags(self, tags: dict[str, Any]) -> None:
        client = self.gw.client
        for key, value in _tag_values(tags).items():
            client.set_tag(self._run_id, key, value)


def finished_trials(
    gw: Gateway, experiment: str, sweep_key: str
) -> dict[int, tuple[str, dict[str, float]]]:
    """Trials of the sweep whose step has cache key ``sweep_key`` that finished anywhere:
    trial number -> (run id, metrics). Empty when MLflow cannot say (a miss is always safe)."""
    try:
        exp_id = gw.experiment_id(experiment, create=False)
        if exp_id is None:
            return {}
        runs = gw.client.search_runs(
            [exp_id],
            filter_string=f"tags.`{SWEEP_KEY_TAG}` = '{sweep_key}' "
            "AND attributes.status = 'FINISHED'",
            order_by=["attributes.end_time DESC"],
            max_results=1000,
        )
    except Exception:
        return {}
    found: dict[int, tuple[str, dict[str, float]]] = {}
    for run in runs:
        number = run.data.tags.get(TRIAL_TAG, "")
        if number.isdigit() and int(number) not in found:
            found[int(number)] = (run.info.run_id, dict(run.data.metrics))
    return found


def may_track(notebook: Path) -> bool:
    """Whether the notebook's code could create tracked runs (children worth looking up)."""
    try:
        nb = json.loads(notebook.read_bytes())
    except (OSError, ValueError):
        return True
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = source if isinstance(source, str) else "".join(source)
        if _TRACKING_CODE.search(source):
            return True
    return False


def child_metrics(gw: Gateway, run_id: str, experiment: str | None = None) -> dict[str, float]:
    """Latest metrics of the runs whose parent is ``run_id`` (the notebook's tracked cells)."""

    client = gw.client
    exp_id = gw.experiment_id(experiment)
    children = client.search_runs(
        [exp_id],
        filter_string=f"tags.`mlflow.parentRunId` = '{run_id}'",
        order_by=["attributes.start_time ASC"],
        max_results=1000,
    )
    metrics: dict[str, float] = {}
    for child in children:
        metrics.update(child.data.metrics)
    return metrics


# -- direct, synchronous calls (standalone papermill runs) ---------------------------------------
def direct_start_run(
    gw: Gateway,
    *,
    name: str,
    kind: str,
    parent_run_id: str | None = None,
    tags: dict[str, Any] | None = None,
    params: dict[str, Any] | None = None,
) -> str:
    from mlflow.entities import Param

    all_tags = {KIND_TAG: kind, **_tag_values(tags or {})}
    if parent_run_id:
        all_tags["mlflow.parentRunId"] = parent_run_id
    user = acting_user(gw.tracking_uri)
    if user:
        all_tags.setdefault("mlflow.user", user)
    client = gw.client
    run_id: str = client.create_run(gw.experiment_id(), run_name=name, tags=all_tags).info.run_id
    _leases[run_id] = RunLease(gw.ws, run_id)  # if this process dies, recovery ends the run
    items = [Param(str(k)[:MAX_KEY], _param_value(v)) for k, v in (params or {}).items()]
    for i in range(0, len(items), 100):
        client.log_batch(run_id, params=items[i : i + 100])
    return run_id


def direct_finish_run(
    gw: Gateway,
    run_id: str,
    *,
    status: str,
    metrics: dict[str, float],
    tags: dict[str, Any],
    texts: dict[str, str],
    artifact: Path | None,
) -> None:
    from mlflow.entities import Metric, RunTag

    client = gw.client
    now = int(time.time() * 1000)
    client.log_batch(
        run_id,
        metrics=[Metric(k, float(v), now, 0) for k, v in metrics.items()],
        tags=[RunTag(k, v) for k, v in _tag_values(tags).items()],
    )
    for name, text in texts.items():
        client.log_text(run_id, text, name)
    if artifact is not None:
        client.log_artifact(run_id, str(artifact), "notebook")
    client.set_terminated(run_id, status=status)
    lease = _leases.pop(run_id, None)
    if lease is not None:
        lease.release()
