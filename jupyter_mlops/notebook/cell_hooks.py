"""IPython event hooks: papermill's injected parameters, and session mode's per-cell steps."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..capture.context_providers import injected_parameters, parameter_tags
from ..capture.params import injected_cell_parameters


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
        if self.session is None:
            return
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
