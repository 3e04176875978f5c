"""IPython event hooks: papermill's injected parameters, session mode's per-cell steps, and
landing a cell's records before the cell ends when a batch client (papermill) runs the kernel."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

from ..capture.context_providers import injected_parameters, parameter_tags
from ..capture.params import injected_cell_parameters
from ..journal.flusher import land_all
from ..settings import environment_settings

CELL_LAND_WAIT_S = 120.0  # at most, while MLflow answers (an unreachable one: seconds)


def _run_by_batch_client(shell: Any) -> bool:
    """Whether a client that runs the notebook top to bottom and then shuts the kernel down
    sent this cell (papermill, nbconvert, nbclient), not a front end a person works in.
    JupyterLab, Notebook 7 and VS Code name the cell they run (``cellId`` in the request's
    metadata); a terminal IPython has no kernel and all the time it needs to exit."""
    kernel = getattr(shell, "kernel", None)
    if kernel is None or environment_settings().driver_lands_records:
        return False
    try:
        request = kernel.get_parent()
    except Exception:
        return False
    metadata = request.get("metadata") if isinstance(request, dict) else None
    return isinstance(metadata, dict) and "cellId" not in metadata


def land_before_the_cell_ends(shell: Any) -> None:
    """Papermill gives a kernel 5 s to exit once the notebook ran, then kills it: too short to
    wait there for a sync agent that is still starting (a fresh workspace) or for a large
    upload. So under a batch client a cell that left records queued ends once they landed, and
    a script that reads MLflow after papermill finds them; when they cannot land (MLflow does
    not answer), one line under the cell says so."""
    if not _run_by_batch_client(shell):
        return
    pending, reason = land_all(CELL_LAND_WAIT_S)
    if pending:
        print(
            f"mlops: {pending} records are queued ({reason}); `jupyter-mlops sync` waits for them",
            file=sys.stderr,
        )


@dataclass
class Hooks:
    shell: Any
    session: Any = None  # a SessionRecorder while `%mlops track on` is in force
    _skip: set[int] = field(default_factory=set)

    def pre_run_cell(self, info: Any) -> None:
        source = getattr(info, "raw_cell", "") or ""
        params = injected_cell_parameters(source)
        if params is not None:
            injected_parameters.update(params)
            if self.session is not None:
                self.session.run.set_tags(parameter_tags(params))
        if self.session is not None:
            self.session.before_cell(self.shell.user_ns)

    def post_run_cell(self, result: Any) -> None:
        if self.session is not None:
            self._session_step(result)
        land_before_the_cell_ends(self.shell)

    def _session_step(self, result: Any) -> None:
        info = getattr(result, "info", None)
        source = getattr(info, "raw_cell", "") or ""
        if source.lstrip().startswith(("%mlops track", "%%mlops track")):
            return  # the switch itself, or a cell that records its own run
        error = result.error_in_exec or result.error_before_exec
        self.session.after_cell(source, result.execution_count, self.shell.user_ns, error)

    def uninstall(self, *, keep_session: bool = False) -> None:
        """Remove the hooks; an open session ends (with a word), or is kept for the next
        ``install_hooks`` when the extension is only being reloaded."""
        events = self.shell.events
        for name in ("pre_run_cell", "post_run_cell"):
            try:
                events.unregister(name, getattr(self, name))
            except ValueError:
                pass
        if self.session is not None:
            if keep_session:
                _kept_sessions[id(self.shell)] = self.session
            else:
                self.session.stop()
                print(
                    f"mlops: session tracking off (extension unloaded); "
                    f"{len(self.session.steps)} cells recorded"
                )
            self.session = None
        _hooks.pop(id(self.shell), None)


_hooks: dict[int, Hooks] = {}
_kept_sessions: dict[int, Any] = {}  # sessions carried over a %reload_ext


def install_hooks(shell: Any) -> Hooks:
    old = _hooks.get(id(shell))
    if old is not None:
        return old
    hooks = Hooks(shell)
    # papermill's injected cell may have run before `%load_ext`: find it in the history
    for source in getattr(shell.history_manager, "input_hist_raw", []):
        params = injected_cell_parameters(source or "")
        if params is not None:
            injected_parameters.update(params)
    shell.events.register("pre_run_cell", hooks.pre_run_cell)
    shell.events.register("post_run_cell", hooks.post_run_cell)
    _hooks[id(shell)] = hooks
    hooks.session = _kept_sessions.pop(id(shell), None)
    if hooks.session is not None:
        print(f"mlops: session tracking continues (run key {hooks.session.run.key[:8]})")
    return hooks


def hooks_for(shell: Any) -> Hooks:
    return install_hooks(shell)
