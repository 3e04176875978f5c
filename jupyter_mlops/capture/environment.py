"""The environment snapshot: an exact lock of installed distributions plus interpreter and hardware.

``pip freeze`` takes about 300 ms; reading the ``*.dist-info`` folder names of ``sys.path``
takes a few milliseconds, and the result is cached until one of those folders changes (a package
installed or removed changes its folder's mtime), so a tracked cell pays a few ``stat`` calls.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import sys
import threading
from typing import Any, cast

from ..settings import environment_settings

_cache: dict[str, Any] = {"key": None, "snapshot": None}
_guard = threading.Lock()


def normalize_name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _paths() -> list[str]:
    return [p for p in dict.fromkeys(sys.path) if p and os.path.isdir(p)]


def _cache_key(paths: list[str]) -> tuple[tuple[str, int], ...]:
    key = []
    for path in paths:
        try:
            key.append((path, os.stat(path).st_mtime_ns))
        except OSError:
            continue
    return tuple(key)


def installed_distributions(paths: list[str] | None = None) -> dict[str, str]:
    """name -> version for every distribution on ``sys.path`` (first one found wins, like import)."""
    found: dict[str, str] = {}
    for path in paths if paths is not None else _paths():
        try:
            entries = os.scandir(path)
        except OSError:
            continue
        with entries:
            for entry in entries:
                name = entry.name
                if name.endswith(".dist-info"):
                    stem = name[: -len(".dist-info")]
                elif name.endswith(".egg-info"):
                    stem = name[: -len(".egg-info")]
                else:
                    continue
                dist, _, version = stem.partition("-")
                version = version.split("-py")[0]
                if dist and version:
                    found.setdefault(normalize_name(dist), version)
    return dict(sorted(found.items()))


def _memory_bytes() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def _kernel() -> dict[str, Any]:
    return {
        "executable": os.path.basename(sys.executable),
        "kernel_name": environment_settings().kernel_name,
        "session": os.environ.get("JPY_SESSION_NAME", ""),
    }


def environment_hash(snapshot: dict[str, Any] | None = None) -> str:
    """Hash of what decides results: interpreter, platform and the exact distributions."""
    snap = snapshot or environment_snapshot()
    return cast("str", snap["hash"])


def _hash(snap: dict[str, Any]) -> str:
    basis = {
        "python": snap["python"],
        "implementation": snap["implementation"],
        "platform": snap["platform"],
        "machine": snap["machine"],
        "distributions": snap["distributions"],
    }
    return hashlib.sha256(json.dumps(basis, sort_keys=True).encode()).hexdigest()[:16]


def environment_snapshot(refresh: bool = False) -> dict[str, Any]:
    """The cached snapshot, rebuilt when an import folder changed (or ``refresh``)."""
    paths = _paths()
    key = _cache_key(paths)
    with _guard:
        if not refresh and _cache["key"] == key:
            return cast("dict[str, Any]", _cache["snapshot"])
        snap: dict[str, Any] = {
            "python": platform.python_version(),
            "implementation": platform.python_implementation(),
            "platform": platform.platform(),
            "machine": platform.machine(),
            "cpu_count": os.cpu_count(),
            "memory_bytes": _memory_bytes(),
            "kernel": _kernel(),
            "distributions": installed_distributions(paths),
        }
        snap["hash"] = _hash(snap)
        _cache["key"], _cache["snapshot"] = key, snap
        return snap


def environment_json(snapshot: dict[str, Any] | None = None) -> str:
    """The snapshot as the JSON text every run carries (serialised once per snapshot)."""
    snap = snapshot or environment_snapshot()
    text = snap.get("_json")
    if text is None:
        text = json.dumps(
            {k: v for k, v in snap.items() if not k.startswith("_")}, indent=1, sort_keys=True
        )
        snap["_json"] = text
    return text
