"""Known credential formats: the regular expressions of detect-secrets' plugins.

Every ``RegexBasedDetector`` plugin detect-secrets ships (cloud keys, GitHub/GitLab/Slack/Stripe/
npm/PyPI/OpenAI tokens, JWTs, private key headers, ...) except four whose job this package does
its own way: ``KeywordDetector`` and ``BasicAuthDetector`` (names and URLs, see ``finders``),
``IPPublicDetector`` (an address is not a credential) and the hex entropy plugin (digests, run ids
and commit shas are hex and must stay readable).

Importing detect-secrets costs about 150 ms (it pulls in requests); a tracked cell must cost
milliseconds. So the first process that needs the patterns imports the plugins once and keeps
their expressions in the user's cache folder, keyed by the installed detect-secrets' version and
files; every later process (each kernel) compiles them from there in about a millisecond.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import sys
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from ..settings import environment_settings

# the parser of the re module (sre_parse before Python 3.11)
_NEW_RE = sys.version_info >= (3, 11)
_parser: Any = importlib.import_module("re._parser" if _NEW_RE else "sre_parse")
_constants: Any = importlib.import_module("re._constants" if _NEW_RE else "sre_constants")

# plugins whose findings this package makes itself (or does not want): see the docstring
SKIPPED_PLUGINS = frozenset(
    {"KeywordDetector", "BasicAuthDetector", "IPPublicDetector", "HexHighEntropyString"}
)
CACHE_LAYOUT = "1"  # bump when the cached entries change shape


@dataclass(frozen=True)
class KnownFormat:
    kind: str  # detect-secrets' secret_type, e.g. "GitHub Token"
    regex: re.Pattern[str]
    # literals a match must contain: one of each group (lower case when the regex ignores
    # case); a text without them is not searched (most expressions cost ~1 us per 100 chars)
    needs: tuple[frozenset[str], ...] = ()
    ignores_case: bool = False

    def may_match(self, present: frozenset[str], present_lower: frozenset[str]) -> bool:
        """Whether the text holds a literal of each group (``present``: the literals of all
        formats found in the text, ``present_lower``: in its lower-case form)."""
        found = present_lower if self.ignores_case else present
        return all(not group.isdisjoint(found) for group in self.needs)


@dataclass(frozen=True)
class FormatSet:
    formats: tuple[KnownFormat, ...]
    words: tuple[str, ...]  # every literal a case-sensitive format needs
    lower_words: tuple[str, ...]  # ... and a case-insensitive one

    def present(self, text: str, lower: str) -> tuple[frozenset[str], frozenset[str]]:
        return (
            frozenset(w for w in self.words if w in text),
            frozenset(w for w in self.lower_words if w in lower),
        )


def _plugin_folder() -> Path | None:
    spec = importlib.util.find_spec("detect_secrets")  # finds it without importing it
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent


def _cache_file(folder: Path) -> Path:
    version_file = folder / "__version__.py"
    stamp = [
        CACHE_LAYOUT,
        version_file.read_text(encoding="utf-8") if version_file.is_file() else "",
    ]
    plugins = folder / "plugins"
    stamp += sorted(f"{p.name}:{p.stat().st_mtime_ns}" for p in plugins.glob("*.py"))
    key = hashlib.sha256("\n".join([*stamp, str(folder)]).encode()).hexdigest()[:16]
    base = environment_settings().cache_dir or os.environ.get("XDG_CACHE_HOME") or "~/.cache"
    return Path(base).expanduser() / "jupyter-mlops" / f"detect-secrets-{key}.json"


def _patterns_from_plugins() -> list[dict[str, Any]]:
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    from detect_secrets.plugins.base import RegexBasedDetector

    found = []
    plugins: dict[str, Any] = get_mapping_from_secret_type_to_class()
    for kind, cls in sorted(plugins.items()):
        if cls.__name__ in SKIPPED_PLUGINS or not issubclass(cls, RegexBasedDetector):
            continue
        denylist: list[re.Pattern[str]] = list(cls.denylist)
        for regex in denylist:
            needs = required_literals(regex.pattern, regex.flags)
            found.append(
                {"kind": kind, "pattern": regex.pattern, "flags": int(regex.flags), "needs": needs}
            )
    return found


def _leading_literal(items: Any) -> str:
    out = []
    for op, av in items:
        if op is not _constants.LITERAL:
            break
        out.append(chr(av))
    return "".join(out)


def required_literals(pattern: str, flags: int) -> list[list[str]]:
    """Groups of literals that every match of ``pattern`` contains one of (each literal two or
    more characters), read from the top level of its parsed form; [] when none is certain."""
    lower = bool(flags & re.IGNORECASE)
    groups: list[list[str]] = []
    run: list[str] = []

    def close_run() -> None:
        if len(run) >= 2:
            groups.append(["".join(run)])
        run.clear()

    def walk(items: Any) -> None:
        for op, av in items:
            if op is _constants.LITERAL:
                run.append(chr(av))
                continue
            close_run()
            if op is _constants.SUBPATTERN:
                walk(av[-1])
                close_run()
            elif op is _constants.BRANCH:
                leads = [_leading_literal(branch) for branch in av[1]]
                if all(len(lead) >= 2 for lead in leads):
                    groups.append(sorted(set(leads)))
            elif op in (_constants.MAX_REPEAT, _constants.MIN_REPEAT) and av[0] >= 1:
                walk(av[2])
                close_run()

    walk(_parser.parse(pattern, flags).data)
    close_run()
    return [[w.lower() for w in g] if lower else g for g in groups]


def _read_cache(path: Path) -> list[dict[str, Any]] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, list) else None


def _write_cache(path: Path, patterns: list[dict[str, Any]]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".detect-secrets-")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(patterns, out)
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only home: every process imports the plugins itself


@cache
def format_set() -> FormatSet:
    formats = known_formats()
    words = {w for f in formats if not f.ignores_case for group in f.needs for w in group}
    lower = {w for f in formats if f.ignores_case for group in f.needs for w in group}
    return FormatSet(formats, tuple(sorted(words)), tuple(sorted(lower)))


@cache
def known_formats() -> tuple[KnownFormat, ...]:
    """The plugins' expressions, compiled; empty when detect-secrets is not installed."""
    folder = _plugin_folder()
    if folder is None:
        return ()
    cache_file = _cache_file(folder)
    patterns = _read_cache(cache_file)
    if patterns is None:
        patterns = _patterns_from_plugins()
        _write_cache(cache_file, patterns)
    return tuple(
        KnownFormat(
            p["kind"],
            re.compile(p["pattern"], p["flags"]),
            tuple(frozenset(group) for group in p["needs"]),
            bool(p["flags"] & int(re.IGNORECASE)),
        )
        for p in patterns
        if isinstance(p, dict) and {"kind", "pattern", "flags", "needs"} <= set(p)
    )


_EDGE = " \t\r\n\"'=:,;"
_TOKEN_TAIL = re.compile(r"[A-Za-z0-9+/=_.-]*")


def matched_secret(match: re.Match[str]) -> str:
    """The secret in a plugin's match: its longest group when that is a real value (the AWS
    secret key after ``aws_secret_access_key = "``), else the whole match (a GitHub token,
    whose only group is its ``ghp`` prefix) carried on to the end of its token (a JWT's lazy
    expression stops before the signature), without the delimiters some expressions include."""
    groups = [g for g in match.groups() if g]
    best = max(groups, key=len) if groups else ""
    if len(best) >= 8:
        return best.strip(_EDGE)
    text = match.group(0)
    if text and _TOKEN_TAIL.fullmatch(text[-1]):
        tail = _TOKEN_TAIL.match(match.string, match.end())
        text += tail.group(0).rstrip(".") if tail else ""
    return text.strip(_EDGE)
