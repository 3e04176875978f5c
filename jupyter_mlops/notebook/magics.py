"""``%mlops`` and ``%%mlops``: parse, call the domain layer, render. Nothing else lives here.

Subcommands are declared once for both front ends in ``commands/``; each declaration names its
notebook view, one of ``<topic>_views.py`` (see ``subcommands.py``). This module dispatches to
them and turns every ``MlopsError`` into a one-line ``UsageError``.
"""

from __future__ import annotations

import os
import shlex
import sys
from dataclasses import dataclass
from types import FrameType
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class

from ..errors import MlopsError
from ..settings import Settings
from ..store.gateway import Gateway, gateway_for
from ..workspace import Workspace
from .cell_hooks import install_hooks
from .subcommands import SUBCOMMANDS, help_for, help_text, unknown_subcommand


@dataclass
class MagicContext:
    shell: Any
    cell: str | None = None  # the body of a %%mlops cell

    @property
    def user_ns(self) -> dict[str, Any]:
        namespace: dict[str, Any] = self.shell.user_ns
        return namespace

    @property
    def workspace(self) -> Workspace:
        return current_workspace()

    @property
    def gateway(self) -> Gateway:
        """The gateway to MLflow of the kernel's workspace: what domain calls get."""
        return gateway_for(current_workspace())


_workspace_cache: dict[tuple[str | None, ...], tuple[Workspace, int | None]] = {}


def current_workspace() -> Workspace:
    """The workspace of the kernel's current folder, re-read only when mlops.yaml changes."""

    key = (
        os.getcwd(),
        os.environ.get(Settings.workspace.env),
        os.environ.get("MLFLOW_TRACKING_URI"),
        os.environ.get(Settings.experiment.env),
    )
    cached = _workspace_cache.get(key)
    if cached is not None:
        ws, mtime = cached
        try:
            current = ws.config_path.stat().st_mtime_ns
        except OSError:
            current = None
        if current == mtime:
            return ws
    ws = Workspace.find()
    try:
        mtime = ws.config_path.stat().st_mtime_ns
    except OSError:
        mtime = None
    _workspace_cache.clear()
    _workspace_cache[key] = (ws, mtime)
    return ws


@magics_class
class MlopsMagics(Magics):
    @line_cell_magic
    def mlops(self, line: str = "", cell: str | None = None) -> Any:
        """Notebook-native MLOps. `%mlops help` lists every subcommand."""
        __tracebackhide__ = True
        try:
            words = shlex.split(line)
        except ValueError as exc:
            raise UsageError(f"%mlops: cannot parse arguments: {exc}") from None
        if not words or words[0] in ("help", "-h", "--help"):
            try:
                text = help_for(words[1]) if len(words) > 1 else help_text()
            except MlopsError as exc:
                raise UsageError(str(exc)) from None
            print(text)
            return None
        name, rest = words[0], words[1:]
        sub = SUBCOMMANDS.get(name)
        if sub is None:
            raise UsageError(f"%mlops: {unknown_subcommand(name)}")
        if cell is not None and not sub.cell:
            raise UsageError(f"%mlops {name} is a line magic; use one % sign")
        if cell is None and not sub.line:
            raise UsageError(f"%%mlops {name} needs a cell body; use two % signs")
        try:
            args = sub.parser().parse_args(rest)
            return sub.run(MagicContext(self.shell, cell), args)
        except MlopsError as exc:
            raise UsageError(str(exc)) from None


_registered: dict[int, Any] = {}


# environment variables %load_ext set, with the value set: unset again at unload if unchanged
_set_env: dict[str, str] = {}


def _point_user_mlflow_at_workspace() -> None:
    """The user's own ``mlflow.start_run()``, ``log_metric``, ``register_model`` go to the
    workspace's store, not MLflow's default ``./mlflow.db``: the tracking and registry URIs are
    set in the kernel's environment, where MLflow reads them when it is imported (it is not
    imported here). A URI already set is left alone (a team server, a reproduction's registry
    sandbox)."""
    try:
        uri = current_workspace().tracking_uri
    except Exception:  # a broken mlops.yaml is reported by the first command that needs it
        return
    for var in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI"):
        if not os.environ.get(var):
            os.environ[var] = _set_env[var] = uri


def _unset_env() -> None:
    for var, value in list(_set_env.items()):
        if os.environ.get(var) == value:
            del os.environ[var]
        del _set_env[var]


def register(ipython: Any) -> None:
    ipython.register_magics(MlopsMagics)
    _point_user_mlflow_at_workspace()

    _registered[id(ipython)] = install_hooks(ipython)
    _usage_errors_as_error_outputs(ipython)


def unregister(ipython: Any) -> None:
    hooks = _registered.pop(id(ipython), None)
    if hooks is not None:
        hooks.uninstall(keep_session=_reloading())
    _unset_env()
    ipython.__dict__.pop("show_usage_error", None)


def _reloading() -> bool:
    """True inside ``%reload_ext`` (an unload followed at once by a load)."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name == "reload_extension":
            return True
        frame = frame.f_back
    return False


def _usage_errors_as_error_outputs(ipython: Any) -> None:
    """In a kernel, show a UsageError as an error output, not as text on stderr.

    IPython prints ``UsageError: ...`` to stderr and sends no error message, so papermill's
    ``PapermillExecutionError`` and a build's step note had an empty message. Sent through the
    kernel's own traceback channel, the same one line becomes the cell's error (ename/evalue).
    """
    send = getattr(ipython, "_showtraceback", None)
    if send is None or "ipykernel" not in type(ipython).__module__:
        return

    def show_usage_error(exc: BaseException) -> None:
        send(type(exc), exc, [f"\x1b[0;31mUsageError\x1b[0m: {exc}"])

    ipython.show_usage_error = show_usage_error
