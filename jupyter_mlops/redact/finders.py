"""Where secrets sit in text: each finder yields the secret values it sees, with the name they
were assigned to when there is one.

- ``assignments``: a value assigned to a secret-looking name, in Python, YAML, JSON, ``.env``
  and shell syntax (``API_KEY = "..."``, ``password: ...``, ``{"token": "..."}``,
  ``connect(password="...")``, ``TOKEN=...``); see ``names`` for which names and values;
- ``environment``: every value put into the environment, whatever its name
  (``os.environ["X"] = "..."``, ``setdefault``, ``putenv``, ``%env X=...``);
- ``url_credentials``: the password of ``scheme://user:password@host``;
- ``private_keys``: the body of a PEM private key block (its BEGIN/END lines stay);
- ``known_formats``: detect-secrets' plugin expressions (see ``formats``);
- ``high_entropy``: a quoted base64-like string of 20+ characters whose Shannon entropy is
  above the limit (4.5 bits per character, detect-secrets' default for its base64 plugin);
  hex strings are never taken: they are digests, run ids and commit shas.
"""

from __future__ import annotations

import bisect
import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from . import names
from .formats import format_set, matched_secret


@dataclass(frozen=True)
class Finding:
    value: str
    name: str | None
    rule: str


_STRING_PREFIX = r"(?:[rRuUbBfF]{1,2})?"
# NAME (or "NAME" / ["NAME"] / .NAME), an assignment operator, a quoted literal on one line
QUOTED_ASSIGNMENT = re.compile(
    r"(?<![\w/@.-])(?P<name>[A-Za-z_][\w.-]*)(?P<close>['\"]?\]?)[ \t]*"
    r"(?::[ \t]*[A-Za-z_][\w\[\]., |]*?[ \t]*=(?![=>])|(?<![=!<>:])=(?![=>])|:=|=>|:)[ \t]*"
    + _STRING_PREFIX
    + r"(?P<q>['\"])(?P<value>(?:\\.|(?!(?P=q))[^\\\n])*)(?P=q)"
)
# NAME=value / NAME: value without quotes (.env files, YAML, query strings, shell)
BARE_ASSIGNMENT = re.compile(
    r"(?<![\w/@.-])(?P<name>[A-Za-z_][\w.-]*)(?P<close>['\"]?\]?)[ \t]*(?:=(?![=>])|:(?![:=/]))[ \t]*"
    r"(?P<value>[^\s'\"`,;&()\[\]{}#]+)(?=[\s'\"`,;&)\]}#]|$)",
    re.MULTILINE,
)
_ENV_QUOTED = _STRING_PREFIX + r"(?P<q>['\"])(?P<value>(?:\\.|(?!(?P=q))[^\\\n])*)(?P=q)"
ENVIRON_ASSIGNMENT = re.compile(
    r"environ\[\s*(?P<q1>['\"])(?P<name>[^'\"\n]+)(?P=q1)\s*\]\s*=(?!=)\s*" + _ENV_QUOTED
)
ENVIRON_CALL = re.compile(
    r"(?:environ\.setdefault|putenv)\(\s*(?P<q1>['\"])(?P<name>[^'\"\n]+)(?P=q1)\s*,\s*"
    + _ENV_QUOTED
)
ENV_MAGIC = re.compile(
    r"^[ \t]*%(?:set_)?env[ \t]+(?P<name>\w+)(?:[ \t]*=[ \t]*|[ \t]+)(?P<value>[^\n]*?)[ \t]*$",
    re.MULTILINE,
)
URL_CREDENTIALS = re.compile(
    r"\b[A-Za-z][A-Za-z0-9+.-]*://(?P<user>[^\s:/?#@'\"]*):(?P<value>[^\s/?#@'\"]+)@"
)
PRIVATE_KEY = re.compile(
    r"-----BEGIN (?P<label>[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?)-----(?P<value>.*?)-----END (?P=label)-----",
    re.DOTALL,
)
PRIVATE_KEY_OPEN = re.compile(
    r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----(?P<value>(?:(?:\\n|\s)*[A-Za-z0-9+/=]{16,})+)"
)
QUOTED_TOKEN = re.compile(r"(?P<q>['\"])(?P<value>[A-Za-z0-9+/=_-]{20,})(?P=q)")
_HEX = re.compile(r"^[0-9a-fA-F-]+$")
# a cheap first look: texts without any of these words cannot hold a named secret
SECRET_WORDS = ("key", "token", "secret", "passw", "pwd", "pw", "credential", "passphrase")
_NEWLINE = re.compile(r"\n")


WINDOW_FROM = 256  # longer texts are searched only in the lines that hold a needed word


class Scan:
    """A text being searched, with its lower-case form for the cheap first looks.

    Most expressions cost about a microsecond per hundred characters, so in a long text (a
    notebook of megabytes) an expression that needs a word (``key``, ``eyJ``) runs only over
    the lines holding it: ``window`` joins those lines. Values found there are the same values
    (what is replaced is every occurrence of a value, not a position).
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.lower = text.lower()
        self._starts: list[int] | None = None

    @classmethod
    def of(cls, text: str) -> Scan:
        return cls(text)

    def _lines_with(self, words: Iterable[str], lower: bool) -> set[int]:
        haystack = self.lower if lower else self.text
        if self._starts is None:
            self._starts = [0, *(m.end() for m in _NEWLINE.finditer(self.text))]
        found: set[int] = set()
        for word in words:
            at = haystack.find(word)
            while at >= 0:
                line = bisect.bisect_right(self._starts, at) - 1
                found.add(line)
                nxt = self._starts[line + 1] if line + 1 < len(self._starts) else len(haystack)
                at = haystack.find(word, nxt)
        return found

    def window(self, needs: Iterable[Iterable[str]], lower: bool) -> str:
        """The text, or (when long) its lines that hold a word of each of ``needs``."""
        groups = list(needs)
        if len(self.text) < WINDOW_FROM or not groups:
            return self.text
        lines: set[int] | None = None
        for group in groups:
            found = self._lines_with(group, lower)
            lines = found if lines is None else lines & found
            if not lines:
                return ""
        assert self._starts is not None and lines is not None
        ends = [*self._starts[1:], len(self.text)]
        return "\n".join(self.text[self._starts[i] : ends[i]] for i in sorted(lines))


def last_name(name: str) -> str:
    return re.split(r"[.\[\]'\"]", name.strip("[]'\""))[-1] if "." in name else name


def assignments(scan: Scan) -> Iterator[Finding]:
    if not any(word in scan.lower for word in SECRET_WORDS):
        return
    text = scan.window([SECRET_WORDS], lower=True)
    for m in QUOTED_ASSIGNMENT.finditer(text):
        name = last_name(m["name"])
        if names.hides(name, m["value"]):
            yield Finding(m["value"], name, "name")
    for m in BARE_ASSIGNMENT.finditer(text):
        name = last_name(m["name"])
        if names.hides(name, m["value"], quoted=False):
            yield Finding(m["value"], name, "name")


def environment(scan: Scan) -> Iterator[Finding]:
    text = scan.text
    if "environ" in text or "putenv" in text:
        for regex in (ENVIRON_ASSIGNMENT, ENVIRON_CALL):
            for m in regex.finditer(text):
                if m["value"] and not names.is_placeholder(m["value"]):
                    yield Finding(m["value"], m["name"], "environ")
    if "env" in text and "%" in text:
        for m in ENV_MAGIC.finditer(text):
            value = m["value"].strip("'\"")
            if value and not names.is_placeholder(value):
                yield Finding(value, m["name"], "environ")


def url_credentials(scan: Scan) -> Iterator[Finding]:
    if "://" not in scan.text:
        return
    for m in URL_CREDENTIALS.finditer(scan.text):
        if not names.is_placeholder(m["value"]):
            yield Finding(m["value"], None, "url")


def _pem_body(body: str) -> str:
    body = body.strip()
    while body.startswith("\\n"):
        body = body[2:].lstrip()
    while body.endswith("\\n"):
        body = body[:-2].rstrip()
    return body


def private_keys(scan: Scan) -> Iterator[Finding]:
    text = scan.text
    if "PRIVATE KEY" not in text:
        return
    found = False
    for m in PRIVATE_KEY.finditer(text):
        body = _pem_body(m["value"])
        if body:
            found = True
            yield Finding(body, None, "private-key")
    if not found:  # a block cut short (a truncated output): its base64 lines
        for m in PRIVATE_KEY_OPEN.finditer(text):
            yield Finding(_pem_body(m["value"]), None, "private-key")


def known_formats(scan: Scan) -> Iterator[Finding]:
    formats = format_set()
    present, present_lower = formats.present(scan.text, scan.lower)
    for fmt in formats.formats:
        if not fmt.may_match(present, present_lower):
            continue
        for m in fmt.regex.finditer(scan.window(fmt.needs, fmt.ignores_case)):
            value = matched_secret(m)
            if len(value) >= 8:
                yield Finding(value, None, f"format:{fmt.kind}")


def shannon_entropy(value: str) -> float:
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values())


def high_entropy(scan: Scan, limit: float) -> Iterator[Finding]:
    for m in QUOTED_TOKEN.finditer(scan.text):
        value = m["value"]
        if not _HEX.match(value) and shannon_entropy(value) > limit:
            yield Finding(value, None, "entropy")


def all_findings(text: str, entropy_limit: float | None) -> Iterator[Finding]:
    scan = Scan.of(text)
    yield from private_keys(scan)
    yield from environment(scan)
    yield from assignments(scan)
    yield from url_credentials(scan)
    yield from known_formats(scan)
    if entropy_limit is not None:
        yield from high_entropy(scan, entropy_limit)


# the assignments whose literal reproduce can put a secret back into, most specific first
RESTORABLE = (ENVIRON_ASSIGNMENT, ENVIRON_CALL, QUOTED_ASSIGNMENT, ENV_MAGIC, BARE_ASSIGNMENT)


def assigned_names(text: str) -> Iterator[tuple[str, str]]:
    """(name, literal) of every assignment in ``text``, secret-looking or not: what a redacted
    value was assigned to (reproduce asks the environment for it), and the allow-list's names."""
    for regex in RESTORABLE:
        for m in regex.finditer(text):
            yield last_name(m["name"]), m["value"]
