"""Runs recorded through the outbox: ``track()``, ``log_params``, ``log_metrics``, ``log_model``.

Every call validates its input, then appends to the process's journal and returns: the MLflow
round trips happen in the workspace's sync agent (``journal.agent``, see ``journal.flusher``); a
model is only pickled here, its MLmodel folder is built by the agent. One ``RunRecorder`` per run;
the innermost open one is the *active* run that the module-level functions log to.
"""

from __future__ import annotations

import atexit
import os
import time
import uuid
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..datasets import api as dataset_api
from ..errors import InvalidInput, MlopsError, NotFound, StoreUnavailable
from ..flavors.registry import is_builtin
from ..journal import flusher
from ..limits import ERROR_TEXT
from ..redact import RunRedaction, redactor_for
from ..settings import environment_settings
from ..store.identity import acting_user
from ..store.logged_models import (
    SKLEARN_RUNTIME,
    pinned_requirements,
    stage_estimator,
    take_notices,
)
from ..tags import (
    CACHE_KEY_TAG,
    CELL_HASH_TAG,
    ENV_HASH_TAG,
    ERROR_TAG,
    ERROR_TYPE_TAG,
    EXECUTION_COUNT_TAG,
    GIT_SHA_TAG,
    KIND_TAG,
    PARAM_PREFIX,
    PARENT_KEY_TAG,
    REDACTED_TAG,
    RUN_KEY_TAG,
    SECRET_NAMES_TAG,
    SWEEP_KEY_TAG,
)
from ..workspace import Workspace
from . import model_params, record_checks
from .context_providers import run_context_registry
from .environment import environment_json, environment_snapshot
from .model_check import check_servable, expected_prediction, own_params
from .run_context import RunStart

_active: list[RunRecorder] = []

# tags whose values this package computes (digests, keys, counts): never redacted
OWN_VALUE_TAGS = frozenset(
    {
        CELL_HASH_TAG,
        ENV_HASH_TAG,
        GIT_SHA_TAG,
        "mlflow.source.git.commit",
        PARENT_KEY_TAG,
        RUN_KEY_TAG,
        KIND_TAG,
        EXECUTION_COUNT_TAG,
        CACHE_KEY_TAG,
        SWEEP_KEY_TAG,
        REDACTED_TAG,
        SECRET_NAMES_TAG,
    }
)
# artifacts logged as files whose text is redacted in the staged copy
TEXT_SUFFIXES = frozenset(
    {".ipynb", ".py", ".json", ".txt", ".md", ".yaml", ".yml", ".log", ".diff"}
)
MAX_REDACTED_FILE = 64 * 1024 * 1024


def tag_name(key: str) -> str:
    """The name a tag's value was given by the user: ``mlops.param.api_key`` -> ``api_key``."""
    if key.startswith(PARAM_PREFIX):
        return key[len(PARAM_PREFIX) :]
    return key.rpartition(".")[2]


def redaction_notice(redaction: RunRedaction) -> str:
    """The one line a front end prints about a run's redaction ('' when it hid nothing)."""
    if not redaction.enabled:
        return (
            f"warning: redaction is off ({redaction.off_reason}): secrets in this run's code, "
            "params and outputs are recorded as they are"
        )
    summary = redaction.summary()
    return summary


def redaction_tags(redaction: RunRedaction) -> dict[str, str]:
    """What the redactor did in a run, as tags (nothing when it hid nothing)."""
    if not redaction.enabled:
        return {REDACTED_TAG: "off"}
    if not redaction.count:
        return {}
    tags = {REDACTED_TAG: str(redaction.count)}
    if redaction.names:
        tags[SECRET_NAMES_TAG] = ",".join(redaction.names)[:5000]
    return tags


def redaction_for(ws: Workspace) -> RunRedaction:
    """A fresh count of what the redactor hides in one run of ``ws``."""
    return RunRedaction(redactor_for(ws.config, ws.config_path))


class UntrackedCall(UserWarning):
    """``log_metrics`` and friends were called with no run tracked: they did nothing."""


def sink_for(ws: Workspace) -> flusher.Sink:
    """The process's outbox + flusher for ``ws`` (started on first use)."""
    return flusher.sink_for(ws)


def sinks_for(ws: Workspace) -> list[Any]:
    """The sinks this process has open for ``ws`` (none if it tracked nothing there)."""
    return flusher.sinks_for(ws)


def shutdown_recorders(timeout: float = 10.0) -> None:
    """Flush and stop every sink (atexit does this too; tests call it between stores)."""
    _active.clear()
    _end_implicit()
    flusher.stop_sinks(timeout)


def _now_ms() -> int:
    return int(time.time() * 1000)


class RunRecorder:
    """One run's records, journaled as they come."""

    def __init__(
        self,
        ws: Workspace,
        *,
        name: str | None = None,
        experiment: str | None = None,
        tags: Mapping[str, Any] | None = None,
        kind: str = "run",
        parent_run_id: str | None = None,
        parent_key: str | None = None,
    ) -> None:
        self.ws = ws
        self.key = uuid.uuid4().hex
        self.name = name
        self.experiment = experiment or ws.default_experiment
        self.kind = kind
        self.redaction = redaction_for(ws)
        self._tags = record_checks.check_tags(self._redacted_tags(dict(tags or {})))
        if parent_run_id is None and parent_key is None:
            env = environment_settings()
            parent_run_id = env.parent_run_id
            # a build step whose run is not in MLflow yet (server unreachable) names its key
            parent_key = None if parent_run_id else env.parent_key
        self.parent_run_id = parent_run_id
        self.parent_key = parent_key
        self._params: dict[str, str] = {}
        self._steps: dict[str, int] = {}
        self._sink = sink_for(ws)
        self.status: str | None = None
        self.started = time.time()

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> RunRecorder:
        env = environment_snapshot()
        context = run_context_registry.resolve(RunStart(self.ws, self.kind))
        tags = {
            "mlflow.source.type": "NOTEBOOK" if self.kind in ("cell", "session") else "LOCAL",
            **self._redacted_tags(context.tags),
            KIND_TAG: self.kind,
            **self._tags,
        }
        user = acting_user(self.ws.tracking_uri)  # the tracking server's user, not the OS's
        if user:
            tags.setdefault("mlflow.user", user)
        if self.parent_key:
            tags[PARENT_KEY_TAG] = self.parent_key
        box = self._sink.box
        with box.batch():
            self._journal_start(box, tags, env)
        for reader in context.state_readers:  # git: read by the sync thread, off the cell's path
            self._sink.request_git(self.key, self.ws.root, reader)
        return self

    def _journal_start(self, box: Any, tags: dict[str, str], env: dict[str, Any]) -> None:
        box.append(
            self.key,
            "create",
            {
                "experiment": self.experiment,
                "name": self.name,
                "start_time": int(self.started * 1000),
                "tags": tags,
                "parent_run_id": self.parent_run_id,
                "parent_key": self.parent_key,
            },
        )
        # this package's own inventory of the interpreter and distributions: no user text
        self.log_text(environment_json(env), "mlops/environment.json", redacted=True)

    def end(self, status: str = "FINISHED", error: BaseException | None = None) -> None:
        if self.status is not None:
            return
        self.status = status
        tags = {}
        if error is not None:
            tags[ERROR_TYPE_TAG] = type(error).__name__
            tags[ERROR_TAG] = self.redaction.text(str(error))[:ERROR_TEXT]
        tags.update(self.redaction_tags())
        box = self._sink.box
        with box.batch():
            if tags:
                box.append(self.key, "data", {"tags": tags})
            box.append(self.key, "end", {"status": status, "end_time": _now_ms()})
        self._sink.kick()

    def redaction_tags(self) -> dict[str, str]:
        return redaction_tags(self.redaction)

    def _redacted_tags(self, tags: Mapping[str, Any]) -> dict[str, Any]:
        return self.redaction.mapping(tags, name_of=tag_name, keep=OWN_VALUE_TAGS)

    @property
    def params(self) -> dict[str, str]:
        """Params logged so far (as text), to avoid re-logging or changing one."""
        return dict(self._params)

    def batch(self) -> Any:
        """Journal everything in the block as one transaction (one commit for a cell's records)."""
        return self._sink.box.batch()

    # -- records ------------------------------------------------------------------------------
    def log_params(self, params: Mapping[str, Any]) -> None:
        checked = self.redaction.mapping(record_checks.check_params(params))
        fresh = {}
        for key, value in checked.items():
            old = self._params.get(key)
            if old is not None and old != value:
                raise InvalidInput(
                    f"param {key!r} was already logged as {old!r} in this run; now {value!r}",
                    hint="params are fixed per run: log a changing value as a metric",
                )
            if old is None:
                fresh[key] = value
        if fresh:
            self._params.update(fresh)
            self._sink.box.append(self.key, "data", {"params": fresh})

    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        checked = record_checks.check_metrics(metrics)
        if step is not None and (isinstance(step, bool) or not isinstance(step, int)):
            raise InvalidInput(f"step must be an integer, not {step!r}")
        ts = _now_ms()
        rows = []
        for key, value in checked.items():
            s = step if step is not None else self._steps.get(key, -1) + 1
            self._steps[key] = max(s, self._steps.get(key, -1))
            rows.append([key, value, ts, s])
        if rows:
            self._sink.box.append(self.key, "data", {"metrics": rows})

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        checked = self._redacted_tags(record_checks.check_tags(tags))
        if checked:
            self._sink.box.append(self.key, "data", {"tags": checked})

    def set_tags_by_run_key(self, tag_keys: Mapping[str, str]) -> None:
        """Tags whose value is another run's id, named by its journal key (it may not have
        landed yet): the replayer fills in the id once it has."""
        checked = record_checks.check_tags(tag_keys)
        if checked:
            self._sink.box.append(self.key, "data", {"tag_keys": checked})

    def log_text(self, text: str, artifact_file: str, *, redacted: bool = False) -> None:
        """Journal ``text`` as an artifact, redacted (``redacted``: the caller already passed
        it through ``self.redaction``, piece by piece)."""
        if not artifact_file or artifact_file.startswith("/") or ".." in Path(artifact_file).parts:
            raise InvalidInput(
                f"artifact name {artifact_file!r} must be a relative path inside the run"
            )
        if not redacted:
            text = self._redacted_text(text, artifact_file)
        self._sink.box.append(self.key, "text", {"text": text, "artifact_file": artifact_file})

    def log_artifact(
        self, local_path: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        path = Path(local_path)
        if not path.exists():
            raise NotFound(f"no file or folder {str(local_path)!r} to log")
        staged = self._sink.box.stage_blob(self.key, path, path.name)
        self._redact_staged(staged)
        self._sink.box.append(
            self.key, "artifact", {"path": str(staged), "artifact_path": artifact_path}
        )

    def _redacted_text(self, text: str, name: str) -> str:
        if name.endswith((".json", ".ipynb")):
            return self.redaction.json_text(text)
        return self.redaction.text(text)

    def _redact_staged(self, staged: Path) -> None:
        """Redact the staged copy of a logged file (or of each text file in a logged folder)."""
        files = [staged] if staged.is_file() else [p for p in staged.rglob("*") if p.is_file()]
        for path in files:
            if path.suffix not in TEXT_SUFFIXES or path.stat().st_size > MAX_REDACTED_FILE:
                continue
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            clean = self._redacted_text(text, path.name)
            if clean != text:
                path.write_text(clean, encoding="utf-8")

    def log_model(
        self,
        estimator: Any,
        name: str = "model",
        X: Any = None,
        *,
        example_source: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> str:
        """Pickle ``estimator`` now (milliseconds); the MLmodel is built and uploaded by the replayer.

        Its flavor (``flavors.registry``) is recorded with it, with its own params and its
        in-memory prediction on the example, which the replayer checks pyfunc against."""
        record_checks.check_key(name, "model")
        if "/" in name or " " in name:
            raise InvalidInput(f"model name {name!r} cannot contain '/' or spaces")
        flavor = check_servable(estimator, name)
        env = environment_snapshot()
        model_key = uuid.uuid4().hex
        staging = self._sink.box.blob_dir / self.key / model_key
        example = None
        if X is not None:
            example = X.iloc[:5] if hasattr(X, "iloc") else X[:5]
        if params is None:
            params = model_params.for_logged_model(own_params(flavor, estimator))
        pickled = stage_estimator(
            estimator,
            staging,
            example,
            flavor=flavor.name if flavor is not None else "sklearn",
            flavor_object=None if flavor is None or is_builtin(flavor) else flavor,
            expected=expected_prediction(flavor, estimator, example),
            example_source=example_source or ("X" if X is not None else None),
            name=name,
            run_name=self.name,
            params=self.redaction.mapping(dict(params)),
        )
        runtime = ("mlflow", *(flavor.requirements if flavor is not None else SKLEARN_RUNTIME[1:]))
        self._sink.box.append(
            self.key,
            "model",
            {
                "estimator": str(pickled),
                "path": str(staging / "model"),
                "name": name,
                "model_key": model_key,
                "requirements": pinned_requirements(env["distributions"], runtime),
            },
        )
        return model_key

    def log_inputs(self, datasets: list[Mapping[str, Any]]) -> None:
        items = []
        for d in datasets:
            missing = {"name", "digest"} - set(d)
            if missing:
                raise InvalidInput(f"dataset input lacks {sorted(missing)}")
            items.append(dict(d))
        if items:
            self._sink.box.append(self.key, "inputs", {"datasets": items})

    # -- identity -----------------------------------------------------------------------------
    def wait_run_id(self, timeout: float = 30.0) -> str:
        """Flush now and return the MLflow run id (raises StoreUnavailable if it cannot land)."""
        deadline = time.monotonic() + timeout
        while True:
            run_id = self._sink.box.run_id(self.key)
            if run_id:
                return run_id
            result = self._sink.flush_now(deadline)
            run_id = self._sink.box.run_id(self.key)
            if run_id:
                return run_id
            if time.monotonic() >= deadline:
                raise StoreUnavailable(
                    f"run {self.key[:8]} is recorded locally but not yet in MLflow"
                    + (f" ({result.error})" if result.error else ""),
                    hint="it will be sent when the tracking server answers; `jupyter-mlops sync` sends it now",
                )
            time.sleep(0.2)

    def wait_synced(self, timeout: float = 60.0) -> str:
        """Flush until every record of this run (models included) is in MLflow; the run id."""
        deadline = time.monotonic() + timeout
        run_id = self.wait_run_id(timeout)
        box = self._sink.box
        while box.conn.execute(
            "SELECT 1 FROM ops WHERE run_key = ? LIMIT 1", (self.key,)
        ).fetchone():
            result = self._sink.flush_now(deadline)
            if time.monotonic() >= deadline:
                raise StoreUnavailable(
                    f"run {run_id[:8]} still has records queued"
                    + (f" ({result.error})" if result.error else ""),
                    hint="`jupyter-mlops sync` sends them when the tracking server answers",
                )
            if result.error:
                time.sleep(0.2)
        return run_id

    @property
    def run_id(self) -> str | None:
        return self._sink.box.run_id(self.key)

    def store_error(self, since: float) -> str | None:
        """Why this run's records are not landing, if the replayer said so after ``since``."""
        return self._sink.store_error(since)

    def model_notices(self) -> list[str]:
        """Models of this process's runs whose pyfunc check, done by the replayer since the last
        call, did not match the in-memory prediction: one line each."""
        return take_notices(self._sink.box.blob_dir)

    def keep_landing(self) -> None:
        """Wake whoever sends the records; start the sync agent again if it is gone (it may
        have stopped idle just before this run's records arrived)."""
        self._sink.kick()


@contextmanager
def track(
    name: str | None = None,
    experiment: str | None = None,
    tags: Mapping[str, Any] | None = None,
    kind: str = "run",
    workspace: Workspace | None = None,
    parent_run_id: str | None = None,
    parent_key: str | None = None,
) -> Iterator[RunRecorder]:
    """Record one run around a block; an exception marks it FAILED (interrupt: KILLED) and re-raises."""
    ws = workspace or Workspace.find()
    if parent_run_id is None and parent_key is None and _active:
        parent_key = _active[-1].key
    run = RunRecorder(
        ws,
        name=name,
        experiment=experiment,
        tags=tags,
        kind=kind,
        parent_run_id=parent_run_id,
        parent_key=parent_key,
    ).start()
    _active.append(run)
    try:
        yield run
    except KeyboardInterrupt as exc:
        run.end("KILLED", exc)
        raise
    except BaseException as exc:
        run.end("FAILED", exc)
        raise
    else:
        run.end("FINISHED")
    finally:
        if run in _active:
            _active.remove(run)


def active_run() -> RunRecorder | None:
    return _active[-1] if _active else None


dataset_api.provide_active_run(active_run)  # log_dataset logs to the active run by default


_warned_untracked: set[str] = set()
# the run that collects calls outside any tracked run, with ``untracked_calls: start_run``
_implicit: list[RunRecorder] = []


def _untracked_mode() -> str:
    try:
        return Workspace.find().untracked_calls
    except MlopsError as exc:
        warnings.warn(f"jupyter_mlops: {exc.message}", UntrackedCall, stacklevel=4)
        return "warn"


def _implicit_run() -> RunRecorder:
    """The run started for calls outside a tracked run; ended when the process exits."""
    if not _implicit:
        run = RunRecorder(Workspace.find(), name="untracked-calls").start()
        _implicit.append(run)
        atexit.register(_end_implicit)
    return _implicit[0]


def _end_implicit() -> None:
    while _implicit:
        _implicit.pop().end("FINISHED")


def _active_or_warn(what: str) -> RunRecorder | None:
    """The active run; outside one, a warning the first time per function and None, or the
    run started for such calls when mlops.yaml says ``untracked_calls: start_run``.

    Instrumented code (a helper that logs metrics) runs in tracked and untracked cells alike,
    as code using MLflow's autolog does outside a run: outside a run its calls do nothing."""
    run = active_run()
    if run is not None:
        return run
    if _untracked_mode() == "start_run":
        return _implicit_run()
    if what not in _warned_untracked:
        _warned_untracked.add(what)
        warnings.warn(
            f"jupyter_mlops.{what}: no run is being tracked, so nothing is recorded "
            "(track the cell with %%mlops track, use `with jupyter_mlops.track():`, or set "
            "untracked_calls: start_run in mlops.yaml)",
            UntrackedCall,
            stacklevel=3,
        )
    return None


def push_active(run: RunRecorder) -> None:
    _active.append(run)


def pop_active(run: RunRecorder) -> None:
    if run in _active:
        _active.remove(run)


def log_params(params: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
    run = _active_or_warn("log_params")
    if run is not None:
        run.log_params({**(params or {}), **kwargs})


def log_metrics(
    metrics: Mapping[str, Any] | None = None, step: int | None = None, **kwargs: Any
) -> None:
    run = _active_or_warn("log_metrics")
    if run is not None:
        run.log_metrics({**(metrics or {}), **kwargs}, step=step)


def log_model(estimator: Any, name: str = "model", X: Any = None) -> str | None:
    """Log ``estimator`` on the active run; outside one, warn once and return None."""
    run = _active_or_warn("log_model")
    return run.log_model(estimator, name=name, X=X) if run is not None else None
