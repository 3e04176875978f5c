"""What a tracked cell read: the tabular objects its code names, and where files came from.

Called by the tracker at the end of every tracked cell, so it is pure and cheap: one parse of the
cell, one dict lookup per name, and for each frame its fingerprint (memory speed); the schema,
profile and snapshot work runs once per digest (``api.prepare`` memoises it).

Which names count as data the cell *read*:
- a DataFrame the cell loads (``model.fit(df[cols], df.y)``) or assigns from a reader call
  (``df = pd.read_csv("data/train.csv")``);
- a Series or numpy array the cell loads but does not itself assign (an input, not a result).
Frames assigned from ``read_csv/read_parquet/read_json/read_feather/read_excel/read_table`` of a
literal path record that file's path (relative to the workspace) and content hash as source.
"""

from __future__ import annotations

import ast
import functools
import sys
import threading
import weakref
from pathlib import Path
from typing import Any

import xxhash

from ..errors import InvalidInput
from ..settings import environment_settings
from ..workspace import Workspace
from .api import prepare

MAX_FRAMES_PER_CELL = 20
MAX_HISTORY_CELLS = 500
READERS = {
    "read_csv",
    "read_parquet",
    "read_json",
    "read_feather",
    "read_excel",
    "read_table",
    "read_orc",
    "read_pickle",
}

# id(frame) -> (weakref to it, file source); the weakref guards against a reused id
_fingerprints: dict[int, tuple[Any, tuple[str, dict[str, str]]]] = {}
_file_sources: dict[int, tuple[Any, dict[str, str]]] = {}
_file_hashes: dict[tuple[str, int, int], str] = {}
_guard = threading.Lock()


def _parse(source: str) -> ast.Module | None:
    """The cell's syntax tree, with IPython magics and shell escapes blanked out."""
    lines = []
    for line in source.splitlines():
        stripped = line.lstrip()
        lines.append("" if stripped.startswith(("%", "!")) else line)
    try:
        return ast.parse("\n".join(lines))
    except SyntaxError:
        return None


def _reader_paths(tree: ast.Module) -> dict[str, str]:
    """``name = <anything>.read_xxx("path", ...)`` at any depth: name -> path literal."""
    found: dict[str, str] = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Assign) or not isinstance(node.value, ast.Call):
            continue
        call = node.value
        func = call.func
        fname = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if fname not in READERS or not call.args:
            continue
        arg = call.args[0]
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = arg.value
    return found


@functools.lru_cache(maxsize=4096)
def _cell_assignments(source: str) -> tuple[frozenset[str], tuple[tuple[str, str], ...]]:
    """(names a cell assigns, (name, path) of its reader calls), parsed once per distinct cell."""
    tree = _parse(source)
    if tree is None:
        return frozenset(), ()
    _, stored = _names(tree)
    return frozenset(stored), tuple(_reader_paths(tree).items())


def _earlier_readers(user_ns: dict[str, Any], names: list[str]) -> dict[str, str]:
    """Names the cell reads whose latest assignment, in an earlier cell, was a file reader call."""
    history = user_ns.get("_ih") or user_ns.get("In")
    if not names or not isinstance(history, list):
        return {}
    found: dict[str, str] = {}
    pending = set(names)
    for source in reversed(history[-MAX_HISTORY_CELLS:]):
        if not pending:
            break
        if not isinstance(source, str) or not any(n in source for n in pending):
            continue
        stored, readers = _cell_assignments(source)
        paths = dict(readers)
        for name in pending & stored:
            if name in paths:
                found[name] = paths[name]
        pending -= stored
    return found


def _names(tree: ast.Module) -> tuple[list[str], set[str]]:
    loaded: list[str] = []
    stored: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            if isinstance(node.ctx, ast.Load):
                if node.id not in loaded:
                    loaded.append(node.id)
            else:
                stored.add(node.id)
    return loaded, stored


def frames_read_by(source: str, user_ns: dict[str, Any]) -> list[tuple[str, Any]]:
    """(name, object) of the DataFrames (and input Series/arrays) the cell's code reads."""
    pd = sys.modules.get("pandas")
    np = sys.modules.get("numpy")
    if pd is None:
        return []
    tree = _parse(source)
    if tree is None:
        return []
    loaded, stored = _names(tree)
    readers = _reader_paths(tree)
    earlier = _earlier_readers(user_ns, [n for n in loaded if n not in stored])
    out: list[tuple[str, Any]] = []
    seen: set[int] = set()
    with _guard:
        _fingerprints.clear()
    for name in [*loaded, *(n for n in readers if n not in loaded)]:
        obj = user_ns.get(name)
        if obj is None or id(obj) in seen or name.startswith("_"):
            continue
        if isinstance(obj, pd.DataFrame):
            if name in readers or name in earlier:
                _remember_file(obj, readers.get(name) or earlier[name], user_ns)
        elif name in stored or not (
            isinstance(obj, pd.Series)
            or (np is not None and isinstance(obj, np.ndarray) and obj.ndim in (1, 2) and obj.size)
        ):
            continue
        if not _fingerprint_ok(obj, name):
            continue
        seen.add(id(obj))
        out.append((name, obj))
        if len(out) >= MAX_FRAMES_PER_CELL:
            break
    return out


def _fingerprint_ok(obj: Any, name: str) -> bool:
    """Fingerprint now (memoised for ``describe``); data with no stable content is skipped."""
    from .fingerprint import fingerprint_frame
    from .profile import as_frame

    try:
        result = fingerprint_frame(as_frame(obj, name))
        ref = weakref.ref(obj)
    except (InvalidInput, TypeError):
        return False
    with _guard:
        _fingerprints[id(obj)] = (ref, result)
    return True


def _memo(obj: Any) -> tuple[str, dict[str, str]] | None:
    with _guard:
        entry = _fingerprints.get(id(obj))
    return entry[1] if entry is not None and entry[0]() is obj else None


def file_source(path: str) -> dict[str, str] | None:
    """{"path", "hash"} of a data file (relative to the workspace when inside it)."""
    try:
        resolved = Path(path).expanduser().resolve()
        st = resolved.stat()
    except OSError:
        return None
    key = (str(resolved), st.st_mtime_ns, st.st_size)
    with _guard:
        digest = _file_hashes.get(key)
    if digest is None:
        h = xxhash.xxh3_128()
        with open(resolved, "rb") as fh:
            while chunk := fh.read(1 << 22):
                h.update(chunk)
        digest = h.hexdigest()
        with _guard:
            _file_hashes[key] = digest
    shown = str(resolved)
    root = environment_settings().workspace
    try:
        base = root.resolve() if root else Workspace.find().root
        shown = str(resolved.relative_to(base))
    except ValueError:
        pass
    return {"path": shown, "hash": digest}


def _remember_file(obj: Any, path: str, user_ns: dict[str, Any]) -> None:
    src = file_source(path)
    if src is None:
        return
    try:
        ref = weakref.ref(obj)
    except TypeError:
        return
    with _guard:
        _file_sources[id(obj)] = (ref, src)
        if len(_file_sources) > 1000:
            for key in [k for k, (r, _) in _file_sources.items() if r() is None]:
                del _file_sources[key]


def known_file_source(obj: Any) -> dict[str, str] | None:
    with _guard:
        entry = _file_sources.get(id(obj))
    if entry is None or entry[0]() is not obj:
        return None
    return entry[1]


def describe(obj: Any, name: str, context: str | None) -> dict[str, Any]:
    """The ``run.log_inputs`` dict for ``obj`` (snapshot written once per digest)."""

    file_src = known_file_source(obj)
    source = {"file": file_src["path"], "file_hash": file_src["hash"]} if file_src else None
    # a cell never waits for MLflow: the version and the input land through the journal
    record = prepare(obj, name, source=source, precomputed=_memo(obj), wait=0)
    item = record.as_input(context)
    if file_src:
        item["source_type"] = "mlops_snapshot+file"
    return item
