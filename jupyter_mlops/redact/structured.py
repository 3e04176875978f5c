"""Redaction of what is not one plain text: name -> value mappings (params, tags), JSON
documents, notebooks and command lines.

A mapping's keys are names: ``{"db_password": "..."}`` hides the value by its name alone. A
notebook is read whole before anything is replaced, so a value found in one cell's source is
replaced in every output that shows it; its images and other binary outputs are left alone
(they are not text, and base64 would look like entropy).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from . import names
from .redactor import MASK, Redacted, Redactor, remember

# output data that is not text: never scanned (base64 images would all be "high entropy")
_BINARY_PREFIXES = ("image/", "application/pdf", "application/vnd.", "video/", "audio/")
_SEPARATOR = "\n\x00\n"
# papermill options followed by NAME VALUE pairs
_PAIR_OPTIONS = frozenset({"-p", "--parameters", "-r", "--parameters_raw"})


def redact_mapping(
    redactor: Redactor,
    mapping: Mapping[str, Any],
    *,
    name_of: Callable[[str], str] = lambda key: key,
    keep: frozenset[str] = frozenset(),
) -> tuple[dict[str, Any], set[str]]:
    """(a copy with secret values masked, the values masked). Values are compared as text;
    non-string values that hold nothing secret keep their type. Keys in ``keep`` are copied
    as they are (this package's own digests)."""
    out: dict[str, Any] = {}
    hidden: set[str] = set()
    if not redactor.enabled:
        return dict(mapping), hidden
    for key, value in mapping.items():
        if key in keep or value is None or isinstance(value, (bool, int, float)):
            out[key] = value
            continue
        text = value if isinstance(value, str) else str(value)
        name = name_of(key)
        if names.hides(name, text) and not redactor.settings.allows_name(name):
            if redactor.settings.allows_value(text):
                out[key] = value
                continue
            out[key] = MASK
            hidden.add(text)
            continue
        done = redactor.redact(text)
        out[key] = done.text if done.values else value
        hidden |= done.values
    remember(hidden)
    return out, hidden


def _texts(node: Any, redactor: Redactor, texts: list[str], named: dict[str, str | None]) -> None:
    """Every text of a document (a list of strings as one text: a notebook's lines), and the
    values of secret-named keys anywhere in it (papermill's parameters...)."""
    if isinstance(node, str):
        texts.append(node)
    elif isinstance(node, list):
        if node and all(isinstance(x, str) for x in node):
            texts.append("".join(node))
        else:
            for item in node:
                _texts(item, redactor, texts, named)
    elif isinstance(node, dict):
        for k, v in node.items():
            key = str(k)
            if key.startswith(_BINARY_PREFIXES):
                continue
            if isinstance(v, str):
                texts.append(v)
                if (
                    names.hides(key, v)
                    and not redactor.settings.allows_name(key)
                    and not redactor.settings.allows_value(v)
                ):
                    named.setdefault(v, key)
            else:
                _texts(v, redactor, texts, named)


def _replaced(node: Any, redactor: Redactor, values: list[str], hidden: set[str]) -> Any:
    if isinstance(node, str):
        done = redactor.replace(node, values)
        hidden |= done.values
        return done.text
    if isinstance(node, list):
        if node and all(isinstance(x, str) for x in node):
            joined = "".join(node)
            done = redactor.replace(joined, values)
            if not done.values:
                return node
            hidden |= done.values
            return done.text.splitlines(keepends=True)
        return [_replaced(item, redactor, values, hidden) for item in node]
    if isinstance(node, dict):
        return {
            k: v if str(k).startswith(_BINARY_PREFIXES) else _replaced(v, redactor, values, hidden)
            for k, v in node.items()
        }
    return node


def redact_document(redactor: Redactor, document: Any) -> tuple[Any, set[str]]:
    """A JSON-like document (a notebook, a history list) with its secrets masked everywhere."""
    if not redactor.enabled:
        return document, set()
    texts: list[str] = []
    named: dict[str, str | None] = {}
    _texts(document, redactor, texts, named)
    found = {**redactor.collect(_SEPARATOR.join(texts)), **named}
    if not found:
        return document, set()
    hidden: set[str] = set()
    out = _replaced(document, redactor, list(found), hidden)
    return out, hidden


def redact_json_text(redactor: Redactor, text: str) -> Redacted:
    """A JSON text redacted as a document (falls back to plain text if it does not parse)."""
    if not redactor.enabled:
        return Redacted(text)
    try:
        document = json.loads(text)
    except ValueError:
        return redactor.redact(text)
    out, hidden = redact_document(redactor, document)
    if not hidden:
        return Redacted(text)
    return Redacted(json.dumps(out, ensure_ascii=False), hidden)


def redact_argv(redactor: Redactor, argv: list[str]) -> list[str]:
    """A command line with secrets masked: ``-p NAME VALUE`` pairs by name, ``--password X`` /
    ``--token=X`` options by name, and every argument as text."""
    if not redactor.enabled:
        return list(argv)
    out = list(argv)
    i = 0
    while i < len(out):
        arg = out[i]
        if arg in _PAIR_OPTIONS and i + 2 < len(out):
            if names.hides(out[i + 1], out[i + 2], quoted=True):
                out[i + 2] = MASK
            i += 3
            continue
        if arg.startswith("--") and "=" in arg:
            name, _, value = arg[2:].partition("=")
            if names.hides(name, value):
                out[i] = f"--{name}={MASK}"
        elif arg.startswith("--") and i + 1 < len(out) and names.hides(arg[2:], out[i + 1]):
            out[i + 1] = MASK
            i += 2
            continue
        i += 1
    joined = "\x00".join(out)
    done = redactor.redact(joined)
    return done.text.split("\x00") if done.values else out
