"""Safe loading of mlops.yaml: no object tags, no alias bombs, no huge files.

Errors name the file and line. ``line_of`` maps a key path (``steps.train.notebook``) back to the
line it came from, so that schema errors can point at it too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .errors import ConfigError

MAX_CONFIG_BYTES = 1_000_000
MAX_ALIASES = 100


def _loader_class() -> type:
    import yaml

    class GuardedLoader(yaml.SafeLoader):
        """SafeLoader that refuses alias-heavy documents before expanding them."""

        def __init__(self, stream: Any) -> None:
            super().__init__(stream)
            self._aliases = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                self._aliases += 1
                if self._aliases > MAX_ALIASES:
                    mark = self.peek_event().start_mark
                    raise ConfigError(
                        f"more than {MAX_ALIASES} YAML aliases; refusing a possible alias bomb",
                        path=str(getattr(self, "_mlops_path", None) or "mlops.yaml"),
                        line=mark.line + 1,
                    )
            return super().compose_node(parent, index)

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
    loader = _loader_class()(text)
    loader._mlops_path = str(path)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except ConfigError:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or str(exc)
        if "could not determine a constructor" in str(exc):
            problem = f"tag not allowed ({exc.problem.split('for the tag')[-1].strip()})"
        raise ConfigError(f"invalid YAML: {problem}", path=str(path), line=line) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid YAML: {exc}", path=str(path)) from None
    finally:
        loader.dispose()
    return data, node


def load_yaml_mapping(path: Path) -> dict[str, Any]:
    data, _ = compose_yaml(path)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"the top level must be a mapping, not {type(data).__name__}", path=str(path), line=1
        )
    return data


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
