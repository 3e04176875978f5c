"""Every ``mlops.*`` name this package writes into MLflow, in one place.

Tags on runs, logged models, registered models and model versions, plus the few metrics the
package logs under its own names: each is a constant here, grouped by the code that writes it, so
a reader finds what a tag means and every writer and reader spells it the same way. Families built
from a prefix (one tag per parameter, per gate, per logged model) have a prefix constant and a
function that builds one name. ``tests/test_tag_names.py`` fails when an ``"mlops.`` literal
appears anywhere else in the package.

The sidebar (labextension/src) reads three of these by their text: ``mlops.notebook`` and
``mlops.execution_count`` (cells.ts, to find a cell's run) and the ``mlops.`` prefix (format.ts, to
hide the package's own tags); renaming those needs the same change there.
"""

from __future__ import annotations

# Every name in this module starts with this; readers use it to tell the package's own tags and
# metrics from the user's.
TAG_PREFIX = "mlops."

# --- runs: written by the tracker (capture/) and the sync agent's replay (store/) -----------------
KIND_TAG = "mlops.kind"  # what a run (or registered model, experiment) is: cell, step, gate, ...
RUN_KEY_TAG = "mlops.run_key"  # the journal's key of a run, so replay finds it again exactly once
PARENT_KEY_TAG = "mlops.parent_key"  # run key of the parent run, resolved to a run id on replay
ENV_HASH_TAG = "mlops.env_hash"  # hash of the Python environment the run ran in
NOTEBOOK_TAG = "mlops.notebook"  # the notebook's path, relative to the project root
CELL_HASH_TAG = "mlops.cell_hash"  # content hash of a tracked cell's source
EXECUTION_COUNT_TAG = "mlops.execution_count"  # the kernel's execution count of a tracked cell
WARNINGS_TAG = "mlops.warnings"  # what could not be recorded, joined with " | "
HIDDEN_STATE_TAG = "mlops.hidden_state"  # names a cell read that earlier cells had changed
ERROR_TYPE_TAG = "mlops.error_type"  # class name of the exception a failed run raised
ERROR_TAG = "mlops.error"  # message of the exception a failed run raised
FAILURE_TAG = "mlops.failure"  # why a run was closed as FAILED by someone else than its process
FITTED_WITHOUT_PREDICT_TAG = "mlops.fitted_without_predict"  # estimators fitted, never predicted
GIT_SHA_TAG = "mlops.git_sha"  # the commit the run's code came from
GIT_BRANCH_TAG = "mlops.git_branch"  # the branch checked out when the run started
GIT_DIRTY_TAG = "mlops.git_dirty"  # "true" when the work tree had uncommitted changes
MODEL_KEY_TAG = "mlops.model_key"  # on a logged model: the journal's key, for exactly-once replay
MODEL_CLASS_TAG = "mlops.class"  # on a logged model: the estimator's class name
FLAVOR_TAG = "mlops.flavor"  # on a logged model: the flavor that saved it (sklearn, xgboost, ...)
# on a logged model: "matches" when pyfunc predicted its input example as the model did in
# memory, else "differs: ..." / "failed: ..." / "unchecked: ..."
PYFUNC_CHECK_TAG = "mlops.pyfunc_check"
EXAMPLE_SOURCE_TAG = "mlops.example_source"  # on a logged model: where its input example came from
NOT_LOGGED_TAG = "mlops.not_logged"  # on a run: objects that look like models but were not logged
# on a run: JSON, where each param of a tracked cell came from (cell, earlier cell, model, ...)
PARAM_SOURCES_TAG = "mlops.param_sources"
CELL_DURATION_METRIC = "mlops.cell_duration_s"  # metric: wall time of a tracked cell
SESSION_CELL_DURATION_METRIC = (
    "mlops.cell.duration_s"  # metric: a session cell's wall time, per step
)
SESSION_CELL_COUNT_METRIC = "mlops.cell.execution_count"  # metric: a session cell's execution count
SESSION_CELL_OK_METRIC = "mlops.cell.ok"  # metric: 1 when a session cell succeeded, else 0
# The run-context providers (capture/run_context.py) that failed on this run, by name
CONTEXT_ERRORS_TAG = "mlops.context_errors"
# How many secret values the redactor (redact/) replaced by *** in what the run recorded, or
# "off" when redaction was switched off; the names they were assigned to (reproduce reads them
# from the environment); how many it replaced in the run's git diff
REDACTED_TAG = "mlops.redacted"
SECRET_NAMES_TAG = "mlops.secret_names"
REDACTED_DIFF_TAG = "mlops.redacted_in_diff"

# Parameters a tracked cell set, one tag each (their values as text)
PARAM_PREFIX = "mlops.param."
# Logged models of a run, one tag each, valued ``models:/<model id>``
MODEL_PREFIX = "mlops.model."
# A logged model of a run whose pyfunc predictions differ from the in-memory model's, one tag each
PYFUNC_CHECK_PREFIX = "mlops.pyfunc_check."
# The failure of a notebook step or papermill run: ename, evalue, cell index
ERROR_PREFIX = "mlops.error."


def param_tag(name: str) -> str:
    """The tag holding parameter ``name`` of a tracked cell."""
    return f"{PARAM_PREFIX}{name}"


def model_tag(name: str) -> str:
    """The run tag pointing at the logged model named ``name``."""
    return f"{MODEL_PREFIX}{name}"


def pyfunc_check_tag(name: str) -> str:
    """The run tag saying logged model ``name`` does not predict through pyfunc as in memory."""
    return f"{PYFUNC_CHECK_PREFIX}{name}"


def error_tag(field: str) -> str:
    """The tag holding one field (ename, evalue, ...) of a failed step's error."""
    return f"{ERROR_PREFIX}{field}"


# --- datasets: written by datasets/registry.py on a dataset version's run ---------------------
DATASET_DIGEST_TAG = "mlops.dataset.digest"  # content fingerprint of the dataset version
DATASET_NAME_TAG = "mlops.dataset.name"  # the dataset's registered name
DATASET_FILE_HASH_TAG = "mlops.dataset.file_hash"  # hash of the source file's bytes
DATASET_FORMAT_TAG = "mlops.dataset.format"  # the source's format (csv, parquet, ...)
DATASET_ROWS_TAG = "mlops.dataset.rows"  # row count
DATASET_COLUMNS_TAG = "mlops.dataset.columns"  # column count
DATASET_SNAPSHOT_RUN_TAG = "mlops.dataset.snapshot_run"  # run holding the stored snapshot
DATASET_SOURCE_TAG = "mlops.dataset.source"  # where the data was read from
DATASET_TOKEN_TAG = "mlops.dataset.token"  # which journal record created the version's run

# --- models and the registry: written by release/registry.py and the model card ------------------
RUN_ID_TAG = "mlops.run_id"  # on a model version: the run that logged the model
MODEL_ID_TAG = "mlops.model_id"  # on a model version: the logged model's id
GATES_TAG = "mlops.gates"  # on a model version: pending | passed | failed
GATE_RUN_ID_TAG = "mlops.gate_run_id"  # on a model version: the run of its last validation
REGISTERED_BY_TAG = "mlops.registered_by"  # on a model version: who registered it
LINEAGE_TAG = "mlops.lineage"  # on a model version: its lineage as JSON (run, datasets, git)
CARD_RUN_ID_TAG = "mlops.card_run_id"  # on a model version: the run holding its model card
SIGNED_BY_TAG = "mlops.signed_by"  # on a model version: who signed its files at registration
SIGNATURE_TAG = "mlops.signature"  # on a model version: the signature's file and key id

# --- releases: gates, promotion, rollout (release/) ----------------------------------------------
MODEL_TAG = "mlops.model"  # on a gate or monitor run: the registered model's name
MODEL_VERSION_TAG = "mlops.model_version"  # on a gate or monitor run: the version judged
ACTOR_TAG = "mlops.actor"  # on a gate run: who ran the validation
EVAL_DIGEST_TAG = "mlops.eval_digest"  # on a gate run: digest of the evaluation dataset
CANARY_WEIGHT_TAG = "mlops.canary_weight"  # on a registered model: the canary's traffic share
CANARY_SHADOW_TAG = "mlops.canary_shadow"  # on a registered model: "true" when the canary shadows
ROLLED_BACK_TAG = "mlops.rolled_back"  # on a model version: "true" once rolled back
LEASE_TAG = "mlops.lease"  # on a registered model: who holds the release lease, until when
# One registered-model tag per release event: ``mlops.history.<ms>.<random>`` holding JSON
HISTORY_PREFIX = "mlops.history."
# One model-version tag per gate, ``<verdict>: <reason>``
GATE_PREFIX = "mlops.gate."
# One model-version tag per evaluation metric a validation computed
METRIC_PREFIX = "mlops.metric."


def gate_tag(gate: str) -> str:
    """The model-version tag holding the verdict of release gate ``gate``."""
    return f"{GATE_PREFIX}{gate}"


def metric_tag(metric: str) -> str:
    """The model-version tag holding evaluation metric ``metric``."""
    return f"{METRIC_PREFIX}{metric}"


# --- approvals: written by release/approvals.py -----------------------------------------------
# One model-version tag per alias the policy protects, ``mlops.approval.<alias>``: the request
# and the decision as JSON (state, who asked, who decided, when, the comments)
APPROVAL_PREFIX = "mlops.approval."


def approval_tag(alias: str) -> str:
    """The model-version tag holding the approval of a version for ``alias``."""
    return f"{APPROVAL_PREFIX}{alias}"


# --- monitor: written by monitor/ on its report runs and the canary guard ------------------------
MONITOR_DRIFTED_TAG = "mlops.monitor.drifted"  # features that drifted, comma separated
MONITOR_ALERTS_TAG = "mlops.monitor.alerts"  # how many alerts the report raised
MONITOR_CANARY_TAG = "mlops.monitor.canary"  # what the report decided about the canary
MONITOR_UNTIL_TAG = "mlops.monitor.until"  # end of the report's time window
GUARD_LEADER_TAG = "mlops.guard_leader"  # on a registered model: the guard acting as leader
PREDICTION_LOG_TAG = "mlops.prediction_log"  # on a log-shipping run: the model whose log it holds

# --- loop: written by loop/ on its cycle runs and on the registered model ---------------------
LOOP_LEADER_TAG = "mlops.loop_leader"  # on a registered model: the loop process that leads
# On a registered model, one tag per trigger, ``mlops.loop.trigger.<name>``: what it last saw
# (a digest, when a condition started holding, the next scheduled firing) as JSON
LOOP_TRIGGER_PREFIX = "mlops.loop.trigger."
LOOP_REQUEST_PREFIX = "mlops.loop.request."  # on a registered model: a firing asked for by hand
CYCLE_TRIGGER_TAG = "mlops.cycle.trigger"  # on a cycle run: the trigger that started it
CYCLE_REASON_TAG = "mlops.cycle.reason"  # on a cycle run: why it started, in words
CYCLE_STAGE_TAG = "mlops.cycle.stage"  # on a cycle run: the stage it is at (or ended at)
CYCLE_OUTCOME_TAG = "mlops.cycle.outcome"  # running | waiting | promoted | stopped | failed | ...
CYCLE_STAGES_TAG = "mlops.cycle.stages"  # on a cycle run: each stage's record, as JSON
CYCLE_BUILD_RUN_TAG = "mlops.cycle.build_run"  # on a cycle run: the pipeline run of its build
# On a cycle run, one tag per firing that arrived while it ran: ``mlops.cycle.coalesced.<ms>``
CYCLE_COALESCED_PREFIX = "mlops.cycle.coalesced."


def loop_trigger_tag(name: str) -> str:
    """The registered-model tag holding what trigger ``name`` last saw."""
    return f"{LOOP_TRIGGER_PREFIX}{name}"


# --- pipeline: written by pipeline/ on build, step, trial and papermill runs ---------------------
SOURCE_TAG = "mlops.source"  # what ran the notebook ("papermill" for the engine)
OUTPUT_NOTEBOOK_TAG = "mlops.output_notebook"  # path of the executed output notebook
EXECUTED_CELLS_TAG = "mlops.executed_cells"  # how many cells the engine executed
STEPS_TAG = "mlops.steps"  # on a build run: the steps in build order, comma separated
EXECUTOR_TAG = "mlops.executor"  # on a build run: the executor's name (local, dask)
JOBS_TAG = "mlops.jobs"  # on a build run: how many steps ran at once
STEP_TAG = "mlops.step"  # the pipeline step a run executed
CACHE_KEY_TAG = "mlops.cache_key"  # the step's cache key: what the build cache looks up
RUN_REASON_TAG = "mlops.run_reason"  # why the step ran rather than coming from the cache
TRIAL_TAG = "mlops.trial"  # a sweep trial's number
# on a sweep trial's run: its step's cache key, so a trial run elsewhere (a cluster task of its
# own, ``build --only STEP --trial N``) is found and reused by the build that finishes the sweep
SWEEP_KEY_TAG = "mlops.sweep_key"
PRUNED_TAG = "mlops.pruned"  # "true" on a trial the sweep pruned
ATTEMPTS_TAG = "mlops.attempts"  # how many times a step was tried
STATUS_TAG = "mlops.status"  # how a step ended
BEST_TAG = "mlops.best"  # "true" on a sweep's best trial
BEST_RUN_ID_TAG = "mlops.best_run_id"  # on a sweep's step run: the best trial's run
BEST_TRIAL_TAG = "mlops.best_trial"  # on a sweep's step run: the best trial's number
# On a step's run, one tag per needed step: ``mlops.upstream.<need>`` holding that step's run id
UPSTREAM_PREFIX = "mlops.upstream."


def upstream_tag(need: str) -> str:
    """The tag on a step's run naming the run of the step it needs."""
    return f"{UPSTREAM_PREFIX}{need}"


# --- reproduce: written by reproduce/rerun.py ---------------------------------------------------
REPRODUCES_TAG = "mlops.reproduces"  # on a reproduction run: the run it reproduces
REPRODUCTION_VERDICT_TAG = "mlops.reproduction.verdict"  # whether the rerun matched
REPRODUCTION_RUN_ID_TAG = "mlops.reproduction.run_id"  # on the original: its reproduction
REPRODUCTION_REASONS_TAG = "mlops.reproduction.reasons"  # what differed, joined with " | "
# on a reproduction run: what the re-executed code tried to register (sandboxed, not applied)
REPRODUCTION_REGISTRY_TAG = "mlops.reproduction.registry_writes"

# --- demo: written by the demo project ---------------------------------------------------------
DEMO_TAG = "mlops.demo"  # which demo scenario made the run
