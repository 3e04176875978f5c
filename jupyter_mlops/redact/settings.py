"""The ``redaction:`` section of mlops.yaml, and the switch that turns redaction off.

Example::

    redaction:
      allow:
        names: [sort_key, "*_token_count"]     # values assigned to these names are kept
        patterns: ["^pk_test_"]                # values matching these expressions are kept
      entropy: 4.5                             # bits per character; false: no entropy rule
      enabled: true                            # false: off, with a warning on every run

``MLOPS_REDACTION=off`` turns it off too, with the same warning. This module stands below the
config loader (the lock files use the redactor), so it reads the section from the mapping it is
given and finds the line of a bad key in the file's text itself.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from ..config import Site
from ..settings import Settings, environment_settings

SWITCH_ENV = Settings.redaction.env
DEFAULT_ENTROPY = 4.5
SECTION_KEYS = ("enabled", "allow", "entropy")
ALLOW_KEYS = ("names", "patterns")


@dataclass(frozen=True)
class RedactionSettings:
    enabled: bool = True
    allow_names: tuple[str, ...] = ()
    allow_patterns: tuple[re.Pattern[str], ...] = ()
    entropy: float | None = DEFAULT_ENTROPY
    off_reason: str = ""  # why it is off: the setting that turned it off
    _lowered: tuple[str, ...] = field(default=(), repr=False)

    def allows_name(self, name: str | None) -> bool:
        if not name or not self.allow_names:
            return False
        lower = name.lower()
        return any(fnmatchcase(lower, glob) for glob in self._lowered)

    def allows_value(self, value: str) -> bool:
        return any(p.search(value) for p in self.allow_patterns)


def switched_off_by_env() -> bool:
    return environment_settings().redaction is False


def parse_section(section: Any, path: Path | None = None) -> RedactionSettings:
    """Settings from the ``redaction:`` mapping (None: the defaults); ConfigError naming the
    file, key path and line for anything else. The environment switch applies on top."""
    site = Site.of_file(path)
    settings = _parse(site, section)
    if switched_off_by_env():
        return RedactionSettings(
            enabled=False,
            allow_names=settings.allow_names,
            allow_patterns=settings.allow_patterns,
            entropy=settings.entropy,
            off_reason=f"{SWITCH_ENV}={os.environ.get(SWITCH_ENV)}",
            _lowered=settings._lowered,
        )
    return settings


def _parse(site: Site, section: Any) -> RedactionSettings:
    if section is None:
        return RedactionSettings()
    base = ["redaction"]
    if not isinstance(section, dict):
        raise site.error(base, f"must be a mapping, not {type(section).__name__}")
    site.known(base, section, SECTION_KEYS)
    enabled = section.get("enabled", True)
    if not isinstance(enabled, bool):
        raise site.error([*base, "enabled"], f"must be true or false, not {enabled!r}")
    entropy = section.get("entropy", DEFAULT_ENTROPY)
    if entropy is False:
        entropy = None
    elif isinstance(entropy, bool) or not isinstance(entropy, (int, float)) or not 0 < entropy <= 8:
        raise site.error(
            [*base, "entropy"],
            f"must be a number of bits per character in (0, 8], or false; not {entropy!r}",
        )
    allow = section.get("allow") or {}
    if not isinstance(allow, dict):
        raise site.error([*base, "allow"], f"must be a mapping, not {type(allow).__name__}")
    site.known([*base, "allow"], allow, ALLOW_KEYS)
    allow_names = _strings(site, [*base, "allow", "names"], allow.get("names"))
    patterns = []
    for i, text in enumerate(_strings(site, [*base, "allow", "patterns"], allow.get("patterns"))):
        try:
            patterns.append(re.compile(text))
        except re.error as exc:
            raise site.error(
                [*base, "allow", "patterns", i], f"not a regular expression: {exc}"
            ) from None
    return RedactionSettings(
        enabled=enabled,
        allow_names=tuple(allow_names),
        allow_patterns=tuple(patterns),
        entropy=float(entropy) if entropy is not None else None,
        off_reason="" if enabled else "redaction: enabled: false in mlops.yaml",
        _lowered=tuple(n.lower() for n in allow_names),
    )


def _strings(site: Site, keys: list[Any], value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise site.error(keys, "must be a list of non-empty strings")
    return list(value)
