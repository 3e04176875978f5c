"""Writing generated files: YAML documents with a header saying where they came from, each file
replaced atomically, so a folder a cluster or CI reads is never half written."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..errors import InvalidInput
from ..pipeline.files import write_atomic
from ..workspace import Workspace


def output_folder(ws: Workspace, out: str | Path) -> Path:
    """``out`` (relative to the current folder), created; never the project's store."""
    folder = Path(out).expanduser().resolve()
    state = ws.state_dir.resolve()
    if folder == state or state in folder.parents:
        raise InvalidInput(f"refusing to write into {folder}: it is the project's store")
    if folder.exists() and not folder.is_dir():
        raise InvalidInput(f"--out {out}: a file is in the way")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def yaml_text(documents: Iterable[dict[str, Any]], header: str) -> str:
    import yaml

    comment = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines())
    body = "---\n".join(
        yaml.safe_dump(doc, sort_keys=False, default_flow_style=False, width=100)
        for doc in documents
    )
    return comment + body


def write_text(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, text.encode())
    return path
