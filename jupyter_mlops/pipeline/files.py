"""Files the pipeline reads and writes: atomic writes and content digests with a stat memo.

Outputs and snapshots are written to a temporary file in the same folder, flushed to disk
(fsync) and renamed, and the folder is synced too: a reader, a build killed half-way or a power cut
never leaves half a file under the final name. Digests of unchanged files come from a memo keyed on
(size, mtime_ns, inode), so an unchanged rebuild does not re-read its data.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, cast

import xxhash

from ..durable import replace_durably

CHUNK = 1 << 20


class DigestMismatch(OSError):
    """A copy's bytes do not hash to the digest they were stored under."""


def _temp_beside(path: Path) -> tuple[int, str]:
    path.parent.mkdir(parents=True, exist_ok=True)
    return tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)


def _discard(tmp: str) -> None:
    try:
        os.unlink(tmp)
    except OSError:
        pass


def write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = _temp_beside(path)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        replace_durably(tmp, path)
    except BaseException:
        _discard(tmp)
        raise


def copy_atomic(src: Path, dst: Path, digest: str | None = None) -> None:
    """Copy ``src`` to ``dst`` through a synced temporary file and a rename. With ``digest``
    the copied bytes must hash to it (else ``DigestMismatch`` and ``dst`` is left untouched)."""

    fd, tmp = _temp_beside(dst)
    try:
        h = xxhash.xxh3_128()
        with open(src, "rb") as source, os.fdopen(fd, "wb") as target:
            while chunk := source.read(CHUNK):
                h.update(chunk)
                target.write(chunk)
            target.flush()
            os.fsync(target.fileno())
        if digest is not None and h.hexdigest() != digest:
            raise DigestMismatch(f"{src} does not match its digest {digest[:12]}")
        replace_durably(tmp, dst)
    except BaseException:
        _discard(tmp)
        raise


def hash_file(path: Path) -> str:
    h = xxhash.xxh3_128()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


class DigestMemo:
    """Content digests of files, reused while a file's size, mtime and inode are unchanged."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._memo: dict[str, list[Any]] = {}  # path -> [size, mtime_ns, inode, digest]
        self._dirty = False
        if path is not None:
            try:
                self._memo = json.loads(path.read_text())
            except (OSError, ValueError):
                self._memo = {}

    def digest(self, file: Path) -> str | None:
        """Digest of a file, of a folder (all files in it), or None when it does not exist."""
        try:
            st = file.stat()
        except OSError:
            return None
        if file.is_dir():
            h = xxhash.xxh3_128()
            for sub in sorted(p for p in file.rglob("*") if p.is_file()):
                h.update(f"{sub.relative_to(file).as_posix()}\0{self.digest(sub)}\n".encode())
            return h.hexdigest()
        sig = [st.st_size, st.st_mtime_ns, st.st_ino]
        key = str(file)
        hit = self._memo.get(key)
        if hit and hit[:3] == sig:
            return cast("str", hit[3])
        value = hash_file(file)
        self._memo[key] = [*sig, value]
        self._dirty = True
        return value

    def save(self) -> None:
        if self._dirty and self.path is not None:
            write_atomic(self.path, json.dumps(self._memo).encode())
            self._dirty = False
