"""The one redactor: finds secret values in a text, replaces each occurrence with ``***``.

Finding and replacing are two steps. ``collect`` asks every finder (see ``finders``) for values
and drops the allow-listed ones; ``replace`` puts ``***`` in place of every occurrence of those
values, anywhere in the text: a token found in ``TOKEN = "..."`` disappears from the
``print(TOKEN)`` output below it and from the traceback that quotes it too. Terminal colours
(tracebacks) are stripped only to look for values; the text keeps them.

The process also remembers what it found (in memory only, never written) and the secret-looking
variables of its environment, so a later text that shows such a value without any context (an
error message) loses it as well.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from . import finders, names
from .settings import RedactionSettings

MASK = "***"
MIN_REMEMBERED = 6  # shorter values are replaced where found, never across texts
MAX_REMEMBERED = 2000
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_WORDISH = re.compile(r"\w")

# os.environ's raw bytes mapping (CPython), cheap to hash; None elsewhere
_ENVIRON_DATA: dict[bytes, bytes] | None = getattr(os.environ, "_data", None)

_remembered: dict[str, None] = {}  # insertion-ordered set of values found in this process


@dataclass
class Redacted:
    text: str
    values: set[str] = field(default_factory=set)  # the distinct values replaced


class Redactor:
    """Finds and replaces secrets under one workspace's settings (allow-lists, entropy)."""

    def __init__(self, settings: RedactionSettings | None = None) -> None:
        self.settings = settings or RedactionSettings()
        self._env_cache: tuple[int, tuple[str, ...]] | None = None

    @property
    def enabled(self) -> bool:
        return self.settings.enabled

    # -- finding ----------------------------------------------------------------------------------
    def collect(self, text: str) -> dict[str, str | None]:
        """Secret value -> the name it was assigned to (None when it had none)."""
        if not text or not self.enabled:
            return {}
        scan = _ANSI.sub("", text) if "\x1b" in text else text
        found: dict[str, str | None] = {}
        for f in finders.all_findings(scan, self.settings.entropy):
            if f.value and f.value != MASK and not self._allowed(f.value, f.name):
                found.setdefault(f.value, f.name)
        if found and self.settings.allow_names:
            self._drop_allowed_assignments(scan, found)
        for value in self._known_values():
            if value in scan and value not in found and not self.settings.allows_value(value):
                found[value] = None
        return found

    def _allowed(self, value: str, name: str | None) -> bool:
        return self.settings.allows_value(value) or self.settings.allows_name(name)

    def _drop_allowed_assignments(self, scan: str, found: dict[str, str | None]) -> None:
        """A value found by its format or entropy inside a literal assigned to an allow-listed
        name is kept too (``model_checksum = "..."`` with ``names: [model_checksum]``)."""
        for name, literal in finders.assigned_names(scan):
            if self.settings.allows_name(name):
                for value in [v for v in found if v in literal]:
                    del found[value]

    def _known_values(self) -> list[str]:
        return [*_remembered, *self._environment_values()]

    def _environment_values(self) -> tuple[str, ...]:
        """Values of the secret-looking variables of the process's environment (recomputed
        only when the environment changed: reading all of it costs ~50 us)."""
        stamp = (
            hash(tuple(os.environ.items()))
            if _ENVIRON_DATA is None
            else hash(tuple(_ENVIRON_DATA.items()))
        )
        if self._env_cache is not None and self._env_cache[0] == stamp:
            return self._env_cache[1]
        values = tuple(
            value
            for name, value in os.environ.items()
            if len(value) >= MIN_REMEMBERED
            and names.secret_environment_name(name)
            and not self.settings.allows_name(name)
            and names.hides(name, value)
        )
        self._env_cache = (stamp, values)
        return values

    # -- replacing --------------------------------------------------------------------------------
    def replace(self, text: str, values: Iterable[str]) -> Redacted:
        """``text`` with every occurrence of ``values`` replaced by ``***``."""
        present = [v for v in values if v and v in text]
        if not present:
            return Redacted(text)
        regex = _alternation(present)
        replaced: set[str] = set()

        def mask(m: re.Match[str]) -> str:
            replaced.add(m.group(0))
            return MASK

        out = regex.sub(mask, text)
        for value in present:  # a value inside a longer word (boundaries kept it): still hidden
            if value in out and len(value) >= 8:
                out = out.replace(value, MASK)
                replaced.add(value)
        remember(replaced)
        return Redacted(out, replaced)

    def redact(self, text: str) -> Redacted:
        """Find and replace in one text."""
        if not text or not self.enabled:
            return Redacted(text)
        return self.replace(text, self.collect(text))


def _alternation(values: list[str]) -> re.Pattern[str]:
    parts = []
    for value in sorted(set(values), key=len, reverse=True):
        part = re.escape(value)
        if len(value) < 8:  # a short value only as a whole word
            if _WORDISH.match(value[0]):
                part = r"(?<!\w)" + part
            if _WORDISH.match(value[-1]):
                part += r"(?!\w)"
        parts.append(part)
    return re.compile("|".join(parts))


def remember(values: Iterable[str]) -> None:
    """Keep ``values`` (long enough ones) to hide them from later texts of this process."""
    for value in values:
        if len(value) >= MIN_REMEMBERED and value != MASK:
            _remembered[value] = None
    while len(_remembered) > MAX_REMEMBERED:
        del _remembered[next(iter(_remembered))]


def forget_all() -> None:
    """Drop the remembered values (tests)."""
    _remembered.clear()
