"""Files the pipeline reads and writes: atomic writes and content digests with a stat memo.

Outputs and snapshots are written to a temporary file in the same folder and renamed, so a
reader (or a build killed half-way) never sees half a file. Digests of unchanged files come from a
memo keyed on (size, mtime_ns, inode), so an unchanged rebuild does not re-read its data.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

CHUNK = 1 << 20


def write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def copy_atomic(src: Path, dst: Path) -> None:
    """Copy ``src`` to ``dst`` through a temporary file and a rename."""
    import shutil

    dst.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dst.name}.", suffix=".tmp", dir=dst.parent)
    os.close(fd)
    try:
        shutil.copyfile(src, tmp)
        os.replace(tmp, dst)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def hash_file(path: Path) -> str:
    import xxhash

    h = xxhash.xxh3_128()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


class DigestMemo:
    """Content digests of files, reused while a file's size, mtime and inode are unchanged."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._memo: dict[str, list] = {}
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
            import xxhash

            h = xxhash.xxh3_128()
            for sub in sorted(p for p in file.rglob("*") if p.is_file()):
                h.update(f"{sub.relative_to(file).as_posix()}\0{self.digest(sub)}\n".encode())
            return h.hexdigest()
        sig = [st.st_size, st.st_mtime_ns, st.st_ino]
        key = str(file)
        hit = self._memo.get(key)
        if hit and hit[:3] == sig:
            return hit[3]
        value = hash_file(file)
        self._memo[key] = [*sig, value]
        self._dirty = True
        return value

    def save(self) -> None:
        if self._dirty and self.path is not None:
            write_atomic(self.path, json.dumps(self._memo).encode())
            self._dirty = False
