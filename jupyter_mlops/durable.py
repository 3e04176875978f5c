"""Writes that survive a crash or a power cut: sync the file before the rename, the folder after.

A rename alone is atomic for readers but not durable: after a power cut the new name may point at
a file whose blocks never reached the disk (an empty or truncated file under the final name), or
the rename itself may be lost. Syncing the temporary file, renaming, then syncing the folder makes
the new content and its name stick.
"""

from __future__ import annotations

import os
from pathlib import Path


def sync_file(path: str | os.PathLike[str]) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sync_folder(folder: str | os.PathLike[str]) -> None:
    """Make a rename (or a new file) in ``folder`` survive a crash: fsync the directory."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return  # platforms that cannot open a folder have no folder entries to sync
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def replace_durably(tmp: str | os.PathLike[str], path: Path) -> None:
    """Rename a written and synced temporary file over ``path``, then sync the folder."""
    os.replace(tmp, path)
    sync_folder(path.parent)
