"""One run's redaction: everything the run records passes through it, and it counts.

The count is of distinct values (a token hidden in the cell, the history and the notebook is
one value), and the names are those the hidden values were assigned to: what a reproduction
must take from the environment. The values themselves are never kept here: only their hashes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from . import finders
from .redactor import MASK, Redactor
from .structured import redact_document, redact_json_text, redact_mapping

MAX_SOURCES = 4000
# (redactor id, source) -> (redacted source, values hidden, names): a kernel's history is sent
# with every tracked cell, each entry is redacted once
_sources: dict[tuple[int, str], tuple[str, tuple[str, ...], tuple[str, ...]]] = {}


def masked_names(text: str) -> list[str]:
    """Names whose assigned literal holds a ``***`` in (already redacted) ``text``."""
    if MASK not in text:
        return []
    return list(dict.fromkeys(n for n, literal in finders.assigned_names(text) if MASK in literal))


class RunRedaction:
    def __init__(self, redactor: Redactor) -> None:
        self.redactor = redactor
        self._hashes: set[str] = set()
        self.names: list[str] = []

    @property
    def enabled(self) -> bool:
        return self.redactor.enabled

    @property
    def off_reason(self) -> str:
        return self.redactor.settings.off_reason

    @property
    def count(self) -> int:
        return len(self._hashes)

    def _note(self, values: Iterable[str], names: Iterable[str] = ()) -> None:
        self._hashes |= {hashlib.sha256(v.encode()).hexdigest() for v in values}
        for name in names:
            if name not in self.names:
                self.names.append(name)

    def text(self, text: str) -> str:
        done = self.redactor.redact(text)
        if done.values:
            self._note(done.values, masked_names(done.text))
        return done.text

    def source(self, text: str) -> str:
        """One cell's source (of the history or the notebook), redacted once per process."""
        key = (id(self.redactor), text)
        hit = _sources.get(key)
        if hit is None:
            done = self.redactor.redact(text)
            names = tuple(masked_names(done.text)) if done.values else ()
            hit = _sources[key] = (done.text, tuple(done.values), names)
            if len(_sources) > MAX_SOURCES:
                del _sources[next(iter(_sources))]
        if hit[1]:
            self._note(hit[1], hit[2])
        return hit[0]

    def json_text(self, text: str) -> str:
        done = redact_json_text(self.redactor, text)
        if done.values:
            self._note(done.values, masked_names(_sources_of(done.text)))
        return done.text

    def document(self, document: Any) -> Any:
        out, hidden = redact_document(self.redactor, document)
        if hidden:
            self._note(hidden)
        return out

    def mapping(
        self,
        mapping: Mapping[str, Any],
        *,
        name_of: Callable[[str], str] = lambda key: key,
        keep: frozenset[str] = frozenset(),
    ) -> dict[str, Any]:
        out, hidden = redact_mapping(self.redactor, mapping, name_of=name_of, keep=keep)
        if hidden:
            named = [name_of(k) for k, v in out.items() if v == MASK]
            self._note(hidden, named)
        return out

    def summary(self) -> str:
        """The one line a front end prints, or '' when nothing was hidden."""
        if not self.count:
            return ""
        what = "value" if self.count == 1 else "values"
        named = f" (assigned to {', '.join(self.names[:6])})" if self.names else ""
        return f"{self.count} secret {what} replaced by *** in what this run records{named}"


def _sources_of(json_text: str) -> str:
    """A JSON text with its escapes undone, so that ``masked_names`` sees the code in it."""
    return json_text.replace('\\"', '"').replace("\\n", "\n")


def restore(text: str, secrets: Mapping[str, str]) -> str:
    """``text`` with each ``***``-holding literal assigned to a name in ``secrets`` replaced by
    that secret (reproduce: the recorded code, with the environment's values put back)."""
    if MASK not in text or not secrets:
        return text
    pieces: list[tuple[int, int, str]] = []
    for regex in finders.RESTORABLE:
        for m in regex.finditer(text):
            name = finders.last_name(m["name"])
            if MASK in m["value"] and name in secrets and not _overlaps(pieces, m.span("value")):
                quote = m.groupdict().get("q")
                value = secrets[name]
                if quote:
                    value = value.replace("\\", "\\\\").replace(quote, "\\" + quote)
                pieces.append((*m.span("value"), value))
    for start, end, value in sorted(pieces, reverse=True):
        text = text[:start] + value + text[end:]
    return text


def _overlaps(pieces: list[tuple[int, int, str]], span: tuple[int, int]) -> bool:
    return any(start < span[1] and span[0] < end for start, end, _ in pieces)
