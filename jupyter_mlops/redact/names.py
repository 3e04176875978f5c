"""Which names hold secrets, and which values assigned to them are worth hiding.

Two strengths. A *strong* name says outright that its value is secret (``password``,
``passwd``, ``pwd``, ``secret``, ``credential``, ``passphrase``): any literal value assigned to it
is hidden, short of an obvious placeholder or a file path. A *weak* name ends a word in ``key`` or
``token`` (``api_key``, ``GITHUB_TOKEN``, ``accessKey``), words that ordinary code also uses
(``sort_key = "date"``, ``pad_token = "[PAD]"``): its value is hidden only when it looks like a
credential (eight or more characters without spaces, with a digit or mixed case, not a plain
identifier).
"""

from __future__ import annotations

import re
from functools import lru_cache

NONE, WEAK, STRONG = 0, 1, 2

_STRONG_PARTS = ("password", "passwd", "passphrase", "secret", "credential")
_STRONG_WORDS = frozenset({"pwd", "pw"})
_WEAK_ENDINGS = ("key", "keys", "token", "tokens")
_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
_PLACEHOLDER = re.compile(
    r"^(?:\*+|\.{3}|x{3,}|X{3,}|<[^<>]*>|\{[^{}]*\}|\$\{[^{}]*\}|\$[A-Z_][A-Z0-9_]*|%s|%\([a-z_]+\)s"
    r"|none|null|true|false|changeme|redacted|\*\*\*)$",
    re.IGNORECASE,
)
_PATH = re.compile(
    r"^(?:~|\.{1,2})?/[^\s:@]*$|^[\w.-]+(?:/[\w.-]+)*\.(?:json|pem|key|crt|p12|txt|ya?ml|ini|cfg|env|csv)$"
)
_IDENTIFIER = re.compile(r"^[a-z_][a-z_]*$|^[A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)+$")
_SPACE = re.compile(r"\s")
_BAD_CHARS = re.compile(r"[<>{}()\[\]|,;\"'`\\]")
# names of the environment this package and Jupyter set for their own bookkeeping
_OWN_ENV_PREFIXES = ("MLOPS_", "JPY_", "JUPYTER_")


@lru_cache(maxsize=4096)
def strength(name: str) -> int:
    """STRONG, WEAK or NONE for an identifier, env variable, dict key or option name."""
    lower = name.lower()
    if any(part in lower for part in _STRONG_PARTS):
        return STRONG
    words = [w.lower() for w in _WORD.findall(name)]
    if any(w in _STRONG_WORDS for w in words):
        return STRONG
    if any(w.endswith(_WEAK_ENDINGS) for w in words):
        return WEAK
    return NONE


def looks_like_credential(value: str) -> bool:
    """Eight or more characters without spaces or code punctuation, with a digit or mixed case,
    and not a plain identifier (``customer_id``) or a dotted reference (``cfg.api_key``)."""
    if len(value) < 8 or _SPACE.search(value) or _BAD_CHARS.search(value):
        return False
    if _IDENTIFIER.match(value) or is_placeholder(value) or is_path(value):
        return False
    has_digit = any(c.isdigit() for c in value)
    mixed = any(c.isupper() for c in value) and any(c.islower() for c in value)
    return has_digit or mixed


def is_placeholder(value: str) -> bool:
    return bool(_PLACEHOLDER.match(value.strip())) or "***" in value


def is_path(value: str) -> bool:
    return bool(_PATH.match(value))


def hides(name: str | None, value: str, *, quoted: bool = True) -> bool:
    """Whether ``value`` assigned to ``name`` is a secret to hide."""
    if not name or not value:
        return False
    level = strength(name)
    if level == NONE or is_placeholder(value) or is_path(value):
        return False
    if level == STRONG:
        if quoted:
            return len(value) >= 3
        # unquoted, the value may be code (``password=db_password``, ``secret=get()``)
        return len(value) >= 4 and not _IDENTIFIER.match(value) and "(" not in value
    return looks_like_credential(value)


def secret_environment_name(name: str) -> bool:
    """An environment variable whose value is kept out of every text (not our own ones)."""
    return not name.startswith(_OWN_ENV_PREFIXES) and strength(name) != NONE
