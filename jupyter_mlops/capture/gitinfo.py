"""Git state of the project at tracking time: commit, branch, dirty flag and the diff.

Runs a few ``git`` subprocesses (tens of milliseconds), so the tracker calls it from its
background thread, right after the cell, never on the cell's own path. The diff and the remote's
URL pass the redactor before anyone sees them (``redacted``: how many values it hid).
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from ..errors import MlopsError
from ..redact import Redactor, default_redactor, redactor_for
from ..workspace import Workspace

MAX_DIFF = 1_000_000


def _git(root: Path, *args: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", *args],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout if out.returncode == 0 else None


def git_state(root: Path) -> dict[str, Any] | None:
    """{sha, branch, dirty, remote} plus ``diff`` text, or None outside a git repository."""
    inside = _git(root, "rev-parse", "--is-inside-work-tree")
    if not inside or inside.strip() != "true":
        return None
    sha = (_git(root, "rev-parse", "HEAD") or "").strip()
    branch = (_git(root, "rev-parse", "--abbrev-ref", "HEAD") or "").strip()
    status = _git(root, "status", "--porcelain", "--untracked-files=no") or ""
    remote = (_git(root, "config", "--get", "remote.origin.url") or "").strip()
    diff = _git(root, "diff", "HEAD") if sha else _git(root, "diff")
    diff = diff or ""
    if len(diff) > MAX_DIFF:
        diff = diff[:MAX_DIFF] + "\n... (diff truncated)\n"
    redactor = _redactor(root)
    clean_diff = redactor.redact(diff)
    clean_remote = redactor.redact(remote)
    return {
        "sha": sha,
        "branch": branch,
        "dirty": bool(status.strip()),
        "remote": clean_remote.text,
        "diff": clean_diff.text,
        "redacted": len(clean_diff.values | clean_remote.values),
    }


def _redactor(root: Path) -> Redactor:
    try:
        ws = Workspace(root=root)
        return redactor_for(ws.config, ws.config_path)
    except MlopsError:  # a malformed mlops.yaml: its redaction section cannot widen the defaults
        return default_redactor()
