"""Advisory file locks (fcntl.flock) that die with their holder.

A lock file records who holds it (PID and command), so that a refused caller can be told whom it
waits for, and a lock left by a dead process is simply free again: the kernel drops flock locks
when the holding process exits, however it exits. The command is recorded through the redactor
(``papermill -p db_password ...`` must not leave the password in ``.mlops/locks/``).
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

from .errors import Conflict
from .limits import LINE_TEXT
from .redact import default_redactor, redact_argv


class FileLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self, *, blocking: bool = True, timeout: float | None = None) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not blocking or (deadline is not None and time.monotonic() >= deadline):
                    os.close(fd)
                    return False
                time.sleep(0.05)
        os.ftruncate(fd, 0)
        command = " ".join(redact_argv(default_redactor(), sys.argv))[:LINE_TEXT]
        holder = {"pid": os.getpid(), "command": command, "since": time.time()}
        os.write(fd, json.dumps(holder).encode())
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def holder(self) -> dict[str, Any]:
        try:
            return cast("dict[str, Any]", json.loads(self.path.read_text() or "{}"))
        except (OSError, ValueError):
            return {}

    def is_free(self) -> bool:
        """True when no live process holds the lock. The probe takes and drops a *shared* lock:
        probes never exclude each other (an exclusive probe made a second prober, the agent
        scanning journals beside a process waiting for them, take a dead process's journal for
        a live one), while a holder's exclusive lock still refuses them."""
        if self.held:
            return False
        if not self.path.exists():
            return True
        fd = os.open(self.path, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        finally:
            os.close(fd)
        return True


@contextmanager
def exclusive(path: Path, *, what: str, timeout: float = 0.0) -> Iterator[FileLock]:
    """Hold ``path`` for the block, or raise Conflict naming the holder."""
    lock = FileLock(path)
    if not lock.acquire(blocking=timeout > 0, timeout=timeout):
        holder = lock.holder()
        raise Conflict(
            f"{what} is already running (pid {holder.get('pid', '?')}: "
            f"{holder.get('command', '?')})",
            hint="wait for it to finish, or stop that process",
        )
    try:
        yield lock
    finally:
        lock.release()
