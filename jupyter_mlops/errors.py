"""One exception hierarchy for every front end.

Each front end translates these once: magics raise IPython's ``UsageError``, the CLI prints one
line and exits non-zero, REST handlers answer JSON with the status code given here. A user's
mistake never surfaces as a traceback from inside MLflow. Each kind has an exit code of its own
(1 for anything unexpected), so a script can tell them apart; ``exit_codes()`` lists them.
"""

from __future__ import annotations

import os
from types import TracebackType


class MlopsError(Exception):
    """Base class: a problem the user can act on. ``hint`` says how."""

    http_status = 500
    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message

    def _render_traceback_(self) -> list[str]:
        """IPython shows this instead of a traceback: one line, and where the user's code called."""
        return [f"\x1b[0;31m{type(self).__name__}\x1b[0m: {self}{_caller(self.__traceback__)}"]


def _caller(tb: TracebackType | None) -> str:
    """``(line N of the cell)`` for the innermost frame outside this package, or ''."""
    package = os.path.dirname(os.path.abspath(__file__))
    found = None
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if not os.path.abspath(filename).startswith(package + os.sep):
            found = (filename, tb.tb_lineno)
        tb = tb.tb_next
    if found is None:
        return ""
    filename, line = found
    if (
        filename.startswith("<ipython-input")
        or "ipykernel_" in filename
        or filename.startswith("<cell")
    ):
        return f"  (line {line} of the cell)"
    return f"  ({filename}:{line})"


class InvalidInput(MlopsError):
    """Bad arguments, a malformed file, a key or value MLflow would reject."""

    http_status = 400
    exit_code = 2


class ConfigError(InvalidInput):
    """mlops.yaml (or another declaration file) is malformed; names file, key path and line."""

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        key: str | None = None,
        line: int | None = None,
        hint: str | None = None,
    ) -> None:
        where = ":".join(str(p) for p in (path, line) if p is not None)
        prefix = f"{where}: " if where else ""
        at = f"{key}: " if key else ""
        super().__init__(f"{prefix}{at}{message}", hint=hint)
        self.path, self.key, self.line = path, key, line


class PermissionDenied(MlopsError):
    """The tracking server refused the authenticated user (HTTP 403)."""

    http_status = 403
    exit_code = 8


class NotFound(MlopsError):
    """An unknown run, dataset, model, version or alias."""

    http_status = 404
    exit_code = 3


class Conflict(MlopsError):
    """The operation clashes with the current state (a held lock, an existing alias...)."""

    http_status = 409
    exit_code = 4


class GateFailed(MlopsError):
    """A release gate did not pass, so the action it guards was refused."""

    http_status = 409
    exit_code = 5


class IntegrityError(MlopsError):
    """Stored bytes no longer match their recorded digest."""

    http_status = 500
    exit_code = 6


class StoreUnavailable(MlopsError):
    """The tracking server cannot be reached; records stay queued in the outbox."""

    http_status = 503
    exit_code = 7


class Busy(MlopsError):
    """Too much work is already queued; retry later."""

    http_status = 429
    exit_code = 9


def exit_codes() -> dict[int, type[MlopsError]]:
    """Exit code -> the error kind that exits with it (each code names one kind)."""
    kinds = [MlopsError, InvalidInput, NotFound, Conflict, GateFailed, IntegrityError]
    kinds += [StoreUnavailable, PermissionDenied, Busy]
    return {kind.exit_code: kind for kind in kinds}
