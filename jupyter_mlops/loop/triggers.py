"""What starts a cycle: each declared trigger, checked against what it saw the last time.

A trigger kind is a probe: ``probe(check, trigger, memory) -> Firing | None``, registered in
``PROBES`` by kind (as papermill registers engines). ``memory`` is what that trigger saw last
(a digest, when a condition started holding, the next scheduled firing); the probe updates it in
place and the loop keeps it in the registry (``memory.py``), so a restarted or new leader goes on
where the last one stopped.

- ``schedule``: due when the clock passes the next firing croniter computed (missed firings while
  no loop ran count once, not once each);
- ``watch``, ``dataset``, ``command``: a digest of files and folders, of a registered dataset's
  latest version, of a command's standard output; the first one seen is the baseline, a
  different one fires;
- ``alert``: see ``alerts.py``.
"""

from __future__ import annotations

import hashlib
import subprocess
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from ..datasets.versions import list_versions
from ..errors import MlopsError
from .alerts import check_alert
from .firing import Firing, Probe, TriggerCheck
from .spec import Trigger

COMMAND_OUTPUT_LIMIT = 16 * 1024 * 1024


def _digest_fired(
    trigger: Trigger, memory: dict[str, Any], digest: str | None, what: str, now: float
) -> Firing | None:
    """Compare with the digest seen last: the first is the baseline, a different one fires."""
    known = "digest" in memory
    before = memory.get("digest")
    memory["digest"] = digest
    if not known or before == digest:
        return None
    memory["fired"] = now
    change = "appeared" if before is None else "went away" if digest is None else "changed"
    return Firing(
        trigger.name,
        trigger.kind,
        f"{what} {change}",
        now,
        {"digest": digest, "previous": before},
    )


def check_schedule(check: TriggerCheck, trigger: Trigger, memory: dict[str, Any]) -> Firing | None:
    due = memory.get("next")
    if due is None:
        memory["next"] = next_after(trigger, check.now)
        return None
    if check.now < float(due):
        return None
    memory["next"] = next_after(trigger, check.now)
    memory["fired"] = check.now
    when = datetime.fromtimestamp(float(due), ZoneInfo(trigger.timezone))
    return Firing(
        trigger.name,
        "schedule",
        f"schedule {trigger.cron} ({when:%Y-%m-%d %H:%M} {trigger.timezone})",
        check.now,
        {"due": float(due)},
    )


def next_after(trigger: Trigger, now: float) -> float:
    """The first firing of a schedule trigger after ``now`` (seconds since the epoch)."""
    from croniter import croniter

    assert trigger.cron is not None
    start = datetime.fromtimestamp(now, ZoneInfo(trigger.timezone))
    return float(croniter(trigger.cron, start).get_next(float))


def check_watch(check: TriggerCheck, trigger: Trigger, memory: dict[str, Any]) -> Firing | None:
    h = hashlib.sha256()
    present = False
    for rel in trigger.paths:
        digest = check.digests.digest(check.ws.root / rel)
        present = present or digest is not None
        h.update(f"{rel}\0{digest or '-'}\n".encode())
    check.digests.save()
    what = ", ".join(trigger.paths)
    return _digest_fired(trigger, memory, h.hexdigest() if present else None, what, check.now)


def check_dataset(check: TriggerCheck, trigger: Trigger, memory: dict[str, Any]) -> Firing | None:
    assert trigger.dataset is not None
    try:
        versions = list_versions(check.gw, trigger.dataset)
    except MlopsError:
        versions = []
    latest = versions[-1] if versions else None
    digest = latest.digest if latest is not None else None
    what = f"dataset {trigger.dataset}"
    if latest is not None:
        what += f" (now {latest.ref})"
    return _digest_fired(trigger, memory, digest, what, check.now)


def check_command(check: TriggerCheck, trigger: Trigger, memory: dict[str, Any]) -> Firing | None:
    """Digest of the command's standard output; a failing command fires nothing and says why
    in ``loop status``."""
    assert trigger.command is not None
    try:
        done = subprocess.run(
            trigger.command,
            shell=True,
            cwd=check.ws.root,
            capture_output=True,
            timeout=trigger.timeout,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        memory["error"] = f"timed out after {trigger.timeout:g} s"
        return None
    if done.returncode != 0:
        err = done.stderr.decode(errors="replace").strip().splitlines()
        memory["error"] = f"exit code {done.returncode}" + (f": {err[-1][:200]}" if err else "")
        return None
    memory.pop("error", None)
    digest = hashlib.sha256(done.stdout[:COMMAND_OUTPUT_LIMIT]).hexdigest()
    return _digest_fired(trigger, memory, digest, f"the output of `{trigger.command}`", check.now)


PROBES: dict[str, Probe] = {
    "schedule": check_schedule,
    "watch": check_watch,
    "dataset": check_dataset,
    "command": check_command,
    "alert": check_alert,
}


def describe(trigger: Trigger) -> str:
    """A trigger in a few words, for ``loop status`` and the sidebar."""
    if trigger.kind == "schedule":
        return f"cron {trigger.cron} ({trigger.timezone})"
    if trigger.kind == "watch":
        return "files " + ", ".join(trigger.paths)
    if trigger.kind == "dataset":
        return f"new version of dataset {trigger.dataset}"
    if trigger.kind == "command":
        return f"output of `{trigger.command}`"
    what = {"input_drift": "input drift", "prediction_drift": "prediction drift"}.get(
        trigger.signal or "", f"{trigger.metric} (quality)"
    )
    limit = "" if trigger.threshold is None else f" past {trigger.threshold:g}"
    held = f" for {trigger.sustained:g} s" if trigger.sustained else ""
    return f"{what}{limit} over {trigger.window:g} s{held}"
