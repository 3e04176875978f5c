"""Safe loading of mlops.yaml: no object tags, no alias bombs, no huge files.

Refused before anything walks the data, each with one ConfigError naming file:line (and the key
path where there is one): a file over ``MAX_CONFIG_BYTES``, more than ``MAX_ALIASES`` aliases,
nesting deeper than ``MAX_DEPTH``, a document whose aliases expand to more than
``MAX_EXPANDED_NODES`` values (90 aliases in 9 levels make 10**9), an alias inside its own anchor,
duplicate keys (YAML would silently keep the last one), and unknown top-level keys (with a
did-you-mean). ``mlops.schema.json`` beside this module describes the whole file.

``line_of`` maps a key path (``steps.train.notebook``) back to the line it came from, so that
schema errors can point at it too.
"""

from __future__ import annotations

import difflib
import json
from functools import cache
from pathlib import Path
from typing import Any, cast

from .errors import ConfigError

MAX_CONFIG_BYTES = 1_000_000
MAX_ALIASES = 100
MAX_DEPTH = 50
MAX_EXPANDED_NODES = 100_000
SCHEMA_PATH = Path(__file__).with_name("mlops.schema.json")


@cache
def config_schema() -> dict[str, Any]:
    """The JSON Schema of mlops.yaml (shipped with the package)."""
    return cast("dict[str, Any]", json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


def did_you_mean(word: str, choices: Any) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``choices``, else ''."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _loader_class() -> type:
    import yaml

    class GuardedLoader(yaml.SafeLoader):
        """SafeLoader that refuses alias-heavy documents before expanding them."""

        def __init__(self, stream: Any) -> None:
            super().__init__(stream)
            self._aliases = 0
            self._depth = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                self._aliases += 1
                if self._aliases > MAX_ALIASES:
                    raise self._error(
                        f"more than {MAX_ALIASES} YAML aliases; refusing a possible alias bomb"
                    )
            self._depth += 1
            try:
                if self._depth > MAX_DEPTH:
                    raise self._error(f"nested deeper than {MAX_DEPTH} levels")
                return super().compose_node(parent, index)
            finally:
                self._depth -= 1

        def _error(self, message: str) -> ConfigError:
            # types-PyYAML leaves Parser.peek_event unannotated
            mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
            path = str(getattr(self, "_mlops_path", None) or "mlops.yaml")
            return ConfigError(message, path=path, line=mark.line + 1)

    return GuardedLoader


def compose_yaml(path: Path) -> tuple[Any, Any]:
    """(data, root node) of a YAML file, loaded safely; raises ConfigError naming file and line."""
    import yaml

    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", path=str(path)) from None
    if size > MAX_CONFIG_BYTES:
        raise ConfigError(f"file is {size} bytes; the limit is {MAX_CONFIG_BYTES}", path=str(path))
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        loader = _loader_class()(text)
    except yaml.reader.ReaderError as exc:  # a control character: refused before parsing
        line: int | None = text.count("\n", 0, max(exc.position, 0)) + 1
        raise ConfigError(
            f"invalid YAML: character {exc.character!r} is not allowed", path=str(path), line=line
        ) from None
    loader._mlops_path = str(path)
    try:
        node = loader.get_single_node()
        if node is not None:
            check_node_graph(node, str(path))
        data = loader.construct_document(node) if node is not None else None
    except ConfigError:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or str(exc)
        if "could not determine a constructor" in str(exc):
            problem = f"tag not allowed ({problem.split('for the tag')[-1].strip()})"
        raise ConfigError(f"invalid YAML: {problem}", path=str(path), line=line) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid YAML: {exc}", path=str(path)) from None
    finally:
        loader.dispose()
    return data, node


def load_yaml_mapping(path: Path) -> dict[str, Any]:
    data, node = compose_yaml(path)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"the top level must be a mapping, not {type(data).__name__}", path=str(path), line=1
        )
    check_top_level_keys(data, node, path)
    return data


def check_top_level_keys(data: dict[str, Any], node: Any, path: Path) -> None:
    """Refuse a key mlops.yaml does not know (``experimnet:`` would otherwise be ignored)."""
    known = config_schema()["properties"]
    for key in data:
        if key not in known:
            raise ConfigError(
                f"unknown top-level key {key!r}{did_you_mean(key, known)}",
                path=str(path),
                key=str(key),
                line=key_line(node, [key]),
                hint=f"allowed: {', '.join(sorted(known))}",
            )


def check_node_graph(root: Any, path: str) -> None:
    """One walk over the composed nodes, each distinct node once (so an alias bomb costs what
    its text costs): refuse duplicate keys, an alias inside its own anchor, and a document
    that would expand to more than ``MAX_EXPANDED_NODES`` values."""
    import yaml

    sizes: dict[int, int] = {}  # id(node) -> expanded size, once finished
    open_nodes: set[int] = set()  # started, not finished: the current node's ancestors
    stack: list[tuple[Any, list[Any], bool]] = [(root, [], False)]
    while stack:
        node, keys, finished = stack.pop()
        if finished:
            size = 1 + sum(sizes[id(child)] for child, _ in _children(node, keys))
            if size > MAX_EXPANDED_NODES:
                raise ConfigError(
                    f"expands to more than {MAX_EXPANDED_NODES} values through aliases",
                    path=path,
                    key=_dotted(keys),
                    line=node.start_mark.line + 1,
                )
            sizes[id(node)] = size
            open_nodes.discard(id(node))
            continue
        if id(node) in sizes:
            continue
        if id(node) in open_nodes:
            raise ConfigError(
                "an alias refers to itself (a recursive structure)",
                path=path,
                key=_dotted(keys),
                line=node.start_mark.line + 1,
            )
        if isinstance(node, yaml.MappingNode):
            _refuse_duplicate_keys(node, keys, path)
        open_nodes.add(id(node))
        stack.append((node, keys, True))
        stack.extend((child, at, False) for child, at in reversed(_children(node, keys)))


def _children(node: Any, keys: list[Any]) -> list[tuple[Any, list[Any]]]:
    import yaml

    if isinstance(node, yaml.SequenceNode):
        return [(child, [*keys, i]) for i, child in enumerate(node.value)]
    if isinstance(node, yaml.MappingNode):
        out = []
        for k, v in node.value:
            out.append((k, keys))
            out.append((v, [*keys, k.value if isinstance(k, yaml.ScalarNode) else "?"]))
        return out
    return []


def _refuse_duplicate_keys(node: Any, keys: list[Any], path: str) -> None:
    import yaml

    first: dict[tuple[str, str], int] = {}
    for k, _ in node.value:
        if not isinstance(k, yaml.ScalarNode):
            continue
        line = k.start_mark.line + 1
        if (k.tag, k.value) in first:
            raise ConfigError(
                f"duplicate key {k.value!r} (first at line {first[(k.tag, k.value)]})",
                path=path,
                key=_dotted([*keys, k.value]),
                line=line,
                hint="YAML would keep only the last one; remove or rename one of them",
            )
        first[(k.tag, k.value)] = line


def _dotted(keys: list[Any]) -> str | None:
    return ".".join(str(k) for k in keys) or None


def key_line(node: Any, parts: list[Any]) -> int | None:
    """1-based line of the key at ``parts`` (where a reader looks), else of the nearest parent."""
    import yaml

    line = node.start_mark.line + 1 if node is not None else None
    for part in parts:
        if isinstance(node, yaml.MappingNode):
            pair = next(((k, v) for k, v in node.value if k.value == str(part)), None)
            if pair is None:
                break
            line, node = pair[0].start_mark.line + 1, pair[1]
        elif (
            isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value)
        ):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def line_of(node: Any, key_path: list[str | int]) -> int | None:
    """1-based line of the node at ``key_path`` in a composed YAML tree (nearest known parent)."""
    import yaml

    line = node.start_mark.line + 1 if node is not None else None
    for key in key_path:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if k.value == str(key)), None)
            if match is None:
                break
            node = match
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            break
        line = node.start_mark.line + 1
    return line


class Site:
    """Where a section of mlops.yaml came from (the file, and its composed YAML tree), so that
    each check of a value names the file, the key path and its line:
    ``mlops.yaml:14: release.gates.latency.p95_ms: must be a number``."""

    def __init__(self, path: str | Path | None, node: Any = None) -> None:
        self.path, self.node = str(path or "mlops.yaml"), node
        self._file: Path | None = None

    @classmethod
    def of_file(cls, path: Path | None) -> Site:
        """A site without the tree: the file at ``path`` is composed when an error needs a line."""
        site = cls(path)
        site._file = path
        return site

    def error(self, keys: list[Any], message: str, hint: str | None = None) -> ConfigError:
        dotted = ".".join(str(k) for k in keys)
        return ConfigError(message, path=self.path, key=dotted, line=self.line(keys), hint=hint)

    def line(self, keys: list[Any]) -> int | None:
        node = self.node
        if node is None and self._file is not None:
            try:
                node = compose_yaml(self._file)[1]
            except (OSError, ConfigError):
                return None
        return line_of(node, keys) if node is not None else None

    def mapping(self, keys: list[Any], value: Any) -> dict[str, Any]:
        """The value as a mapping (nothing given counts as empty)."""
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.error(keys, f"must be a mapping, not {type(value).__name__}")
        return value

    def known(self, keys: list[Any], value: dict[Any, Any], allowed: Any) -> None:
        """Refuse a key of ``value`` that ``allowed`` does not list, with a did-you-mean."""
        for key in value:
            if key not in allowed:
                raise self.error(
                    [*keys, str(key)],
                    f"unknown key{did_you_mean(str(key), allowed)}",
                    hint=f"known: {', '.join(allowed)}",
                )

    def number(
        self, keys: list[Any], value: Any, lo: float | None = None, hi: float | None = None
    ) -> float:
        """The value as a number within [lo, hi]; booleans are not numbers here."""
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(keys, f"must be a number, not {value!r}")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise self.error(keys, f"must be between {lo} and {hi}, got {value}")
        return float(value)

    def words(self, keys: list[Any], value: Any) -> tuple[str, ...]:
        """A name or a list of names (nothing given: none)."""
        if value is None:
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error(keys, "must be a list of names")
        return tuple(value)
