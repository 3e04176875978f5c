"""Cache keys of steps and the local index that maps a key to the run that produced it.

A key hashes what decides a step's result: the notebook's code cells (not outputs or metadata),
its parameters, the digests of its input files and datasets, the environment lock and the keys of
the steps it needs. Nothing here imports MLflow: an unchanged rebuild answers from
``.mlops/cache/`` alone. An entry recorded while the tracking server was down names its runs by
journal key; the first lookup after they landed fills in their ids (and rewrites the entry). Outputs of a finished step are kept content-addressed in
``.mlops/cache/objects`` so that a hit can restore them.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import xxhash

from ..capture.environment import environment_hash as captured
from ..errors import IntegrityError
from ..journal.run_keys import landed_run_ids
from ..workspace import Workspace
from .files import DigestMemo, DigestMismatch, copy_atomic, hash_file, write_atomic

KEY_VERSION = "1"


def _xxh(data: bytes) -> str:
    return xxhash.xxh3_128_hexdigest(data)


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str).encode()


def notebook_code_digest(path: Path) -> str:
    """Digest of the code cells' sources in order; outputs, metadata and markdown do not count."""
    nb = json.loads(path.read_bytes())
    parts = []
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        parts.append(source if isinstance(source, str) else "".join(source))
    language = nb.get("metadata", {}).get("kernelspec", {}).get("name", "")
    return _xxh(canonical_json([language, parts]))


def _environment_stamp() -> str:
    """What the environment hash depends on that a few ``stat`` calls can see: the interpreter,
    the OS release and the mtime of every import folder (installing a package changes it)."""

    parts = [sys.version, sys.executable, " ".join(os.uname())]
    cwd = os.getcwd()
    for entry in dict.fromkeys(sys.path):
        if entry in ("", cwd):  # the project folder itself: outputs written there change it
            continue
        try:
            parts.append(f"{entry}:{os.stat(entry or '.').st_mtime_ns}")
        except OSError:
            continue
    return _xxh("\n".join(parts).encode())


def environment_hash(memo_dir: Path | None = None) -> str:
    """The capture layer's environment lock hash, memoised on disk for the CLI's fast path.

    Computing it lists every installed distribution and asks the platform module, which forks
    ``uname -p``: tens of milliseconds, most of an unchanged rebuild. With ``memo_dir`` the
    result is kept on disk under a stamp of the import folders and reused while they stay put.
    """
    stamp = memo = None
    if memo_dir is not None:
        stamp = _environment_stamp()
        memo = memo_dir / "environment.json"
        try:
            saved = json.loads(memo.read_text())
            if saved.get("stamp") == stamp:
                return str(saved["hash"])
        except (OSError, ValueError, KeyError, AttributeError):
            pass

    value = str(captured())
    if memo is not None:
        try:
            write_atomic(memo, canonical_json({"stamp": stamp, "hash": value}))
        except OSError:
            pass
    return value


@dataclass
class StepKey:
    step: str
    key: str
    components: dict[str, str] = field(default_factory=dict)


def produced_digest(rel: str, produced: dict[str, str]) -> str | None:
    """The digest input ``rel`` will have once the needed steps' outputs are restored: the file's
    own recorded digest, or a folder's digest computed as ``DigestMemo`` does; None if unknown."""
    if rel in produced:
        return produced[rel]
    prefix = rel.rstrip("/") + "/"
    inside = {p[len(prefix) :]: d for p, d in produced.items() if p.startswith(prefix)}
    if not inside:
        return None

    h = xxhash.xxh3_128()
    for sub in sorted(inside, key=lambda p: Path(p).parts):
        h.update(f"{sub}\0{inside[sub]}\n".encode())
    return h.hexdigest()


def compute_key(
    step: Any,
    root: Path,
    parameters: dict[str, Any],
    needed_keys: dict[str, str],
    env_hash: str,
    memo: DigestMemo,
    produced: dict[str, str] | None = None,
) -> StepKey:
    """The cache key of ``step`` with its effective parameters and its needs' keys.

    ``produced`` maps the needed steps' recorded outputs to their digests: an input that one of
    them produces counts with that digest, so a step's key is known before those outputs are
    restored (a fresh clone that gets its first steps from the shared cache)."""
    components = {
        "notebook": notebook_code_digest(root / step.notebook),
        "parameters": _xxh(canonical_json(parameters)),
        "environment": env_hash,
        "kernel": step.kernel or "",
    }
    for rel in step.inputs:
        known = produced_digest(rel, produced) if produced else None
        components[f"input:{rel}"] = known or memo.digest(root / rel) or "missing"
    for name, key in sorted(needed_keys.items()):
        components[f"needs:{name}"] = key
    if step.sweep is not None:
        components["sweep"] = _xxh(canonical_json(step.sweep.__dict__))
    key = _xxh(canonical_json([KEY_VERSION, step.name, components]))
    return StepKey(step.name, key, components)


def explain_change(old: dict[str, str] | None, new: dict[str, str]) -> str:
    """Which part of the key changed since the step last ran, in a few words."""
    if not old:
        return "never built"
    labels = {
        "notebook": "notebook code changed",
        "parameters": "parameters changed",
        "environment": "environment changed",
        "kernel": "kernel changed",
        "sweep": "sweep changed",
    }
    changes = []
    for name in sorted(set(old) | set(new)):
        if old.get(name) == new.get(name):
            continue
        if name in labels:
            changes.append(labels[name])
        elif name.startswith("input:"):
            what = "missing" if new.get(name) == "missing" else "changed"
            changes.append(f"input {name[6:]} {what}")
        elif name.startswith("needs:"):
            changes.append(f"needed step {name[6:]} changed")
    return "; ".join(changes) or "same key, result not in cache"


# (id field, key field) of an entry: a run recorded offline has only its journal key at first
OFFLINE_RUN_FIELDS = (("run_id", "run_key"), ("best_run_id", "best_run_key"))


def _unresolved(entry: dict[str, Any]) -> dict[str, str]:
    return {i: entry[k] for i, k in OFFLINE_RUN_FIELDS if not entry.get(i) and entry.get(k)}


class CacheIndex:
    """``.mlops/cache``: entries by key, the last key of each step, stored outputs by digest."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.root = ws.root
        self.dir = ws.state_dir / "cache"
        self.memo = DigestMemo(self.dir / "digests.json")
        self._asked: set[str] = set()  # run keys looked up in vain by this index already

    def _entry_path(self, key: str) -> Path:
        return self.dir / "steps" / f"{key}.json"

    def lookup(self, key: str) -> dict[str, Any] | None:
        try:
            entry = cast("dict[str, Any]", json.loads(self._entry_path(key).read_text()))
        except (OSError, ValueError):
            return None
        return self.resolve_run_ids(entry) if _unresolved(entry) else entry

    def resolve_run_ids(self, entry: dict[str, Any]) -> dict[str, Any]:
        """Fill in the run ids of an entry recorded while the tracking server was down, once
        those runs have landed; the entry is rewritten (atomically) with them."""
        wanted = {f: k for f, k in _unresolved(entry).items() if k not in self._asked}
        if not wanted:
            return entry
        found = landed_run_ids(self.ws, list(wanted.values()))
        self._asked.update(k for k in wanted.values() if k not in found)
        resolved = {f: found[k] for f, k in wanted.items() if k in found}
        if resolved:
            entry = {**entry, **resolved}
            write_atomic(self._entry_path(entry["key"]), canonical_json(entry))
        return entry

    def resolve_offline_entries(self) -> int:
        """Resolve every entry still waiting for its runs' ids (after a sync); how many were."""
        fixed = 0
        for path in sorted((self.dir / "steps").glob("*.json")):
            try:
                entry = json.loads(path.read_text())
            except (OSError, ValueError):
                continue
            if _unresolved(entry) and not _unresolved(self.resolve_run_ids(entry)):
                fixed += 1
        return fixed

    def last_components(self, step: str) -> dict[str, str] | None:
        try:
            last = json.loads((self.dir / "last" / f"{step}.json").read_text())
            return cast("dict[str, str]", last["components"])
        except (OSError, ValueError, KeyError):
            return None

    def outputs_restorable(self, entry: dict[str, Any]) -> str | None:
        """None when every recorded output is on disk or restorable, else what is missing.

        A stored copy that would be restored is read and checked against its digest first; a
        damaged one is removed, and the step runs again instead of restoring wrong bytes."""
        for rel, digest in entry.get("outputs", {}).items():
            if self.memo.digest(self.root / rel) == digest:
                continue
            obj = self._object(digest)
            if not obj.is_file():
                return f"output {rel} is gone and not in the cache"
            if hash_file(obj) != digest:
                obj.unlink(missing_ok=True)
                return f"output {rel} is gone and its cached copy was damaged"
        return None

    def restore_outputs(self, entry: dict[str, Any]) -> list[str]:
        """Put back outputs that were changed or deleted since the cached run; returns them.
        Each copy is verified against its digest before it replaces anything."""
        restored = []
        for rel, digest in entry.get("outputs", {}).items():
            target = self.root / rel
            if self.memo.digest(target) == digest:
                continue
            try:
                copy_atomic(self._object(digest), target, digest)
            except DigestMismatch:
                self._object(digest).unlink(missing_ok=True)
                raise IntegrityError(
                    f"the cached copy of {rel} is damaged (its bytes no longer match digest "
                    f"{digest[:12]}); it was removed",
                    hint="build again: the step runs instead of restoring it",
                ) from None
            self.memo.digest(target)
            restored.append(rel)
        return restored

    def has_object(self, digest: str) -> bool:
        return self._object(digest).is_file()

    def add_object(self, source: Path, digest: str) -> None:
        """Store ``source`` under ``digest`` (verified while copying; raises DigestMismatch)."""
        copy_atomic(source, self._object(digest), digest)

    def _object(self, digest: str) -> Path:
        return self.dir / "objects" / digest[:2] / digest

    def store_outputs(self, outputs: list[str]) -> tuple[dict[str, str], list[str]]:
        """Snapshot the step's output files; returns ({path: digest}, missing paths)."""
        recorded: dict[str, str] = {}
        missing = []
        for rel in outputs:
            path = self.root / rel
            files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
            if not path.exists() or not files:
                missing.append(rel)
                continue
            for file in files:
                digest = self.memo.digest(file)
                assert digest is not None
                obj = self._object(digest)
                if not obj.is_file():
                    copy_atomic(file, obj, digest)
                recorded[file.relative_to(self.root).as_posix()] = digest
        return recorded, missing

    def record(
        self,
        step_key: StepKey,
        *,
        run_id: str | None,
        outputs: dict[str, str],
        metrics: dict[str, float],
        extra: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        entry = {
            "key": step_key.key,
            "step": step_key.step,
            "run_id": run_id,
            "outputs": outputs,
            "metrics": metrics,
            "components": step_key.components,
            "finished_at": time.time(),
            **(extra or {}),
        }
        write_atomic(self._entry_path(step_key.key), canonical_json(entry))
        self.remember(step_key)
        return entry

    def adopt(self, entry: dict[str, Any]) -> None:
        """Take in an entry someone else recorded (the shared cache), its objects already here."""
        write_atomic(self._entry_path(entry["key"]), canonical_json(entry))
        self.remember(StepKey(entry["step"], entry["key"], entry.get("components", {})))

    def remember(self, step_key: StepKey) -> None:
        payload = {"key": step_key.key, "components": step_key.components}
        write_atomic(self.dir / "last" / f"{step_key.step}.json", canonical_json(payload))

    def save(self) -> None:
        self.memo.save()
