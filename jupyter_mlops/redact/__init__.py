"""The one redactor every text passes before it leaves the kernel (or any process) for the
journal, the store or a file under ``.mlops/``: cell source, execution history, notebook copies,
params, tags, papermill parameters, git diffs, error messages and tracebacks.

A secret is replaced by ``***`` and the rest of the text stays as it was, so code still reads
(and reproduces, with the secret supplied again from the environment). What counts as a secret
is in ``finders``; which names in ``names``; the ``redaction:`` section of mlops.yaml in
``settings``. ``redactor_for`` gives a workspace's redactor, ``RunRedaction`` counts one run's.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .redactor import MASK, Redacted, Redactor, forget_all, remember
from .settings import RedactionSettings, parse_section, switched_off_by_env
from .structured import redact_argv, redact_document, redact_json_text, redact_mapping
from .tally import RunRedaction, masked_names, restore

__all__ = [
    "MASK",
    "Redacted",
    "RedactionSettings",
    "Redactor",
    "RunRedaction",
    "default_redactor",
    "forget_all",
    "masked_names",
    "parse_section",
    "redact_argv",
    "redact_document",
    "redact_json_text",
    "redact_mapping",
    "redactor_for",
    "remember",
    "restore",
]

_cache: dict[tuple[str, str], Redactor] = {}


def redactor_for(config: Mapping[str, Any], path: Path | None = None) -> Redactor:
    """The redactor of a workspace, from its mlops.yaml mapping (``ws.config``) and path.
    Raises ConfigError for a malformed ``redaction:`` section."""
    section = config.get("redaction")
    key = (str(path), repr(section) + str(switched_off_by_env()))
    redactor = _cache.get(key)
    if redactor is None:
        redactor = _cache[key] = Redactor(parse_section(section, path))
    return redactor


def default_redactor() -> Redactor:
    """The redactor with default settings (and the environment's switch), where no workspace
    is at hand: a lock file's record of its holder's command line."""
    return redactor_for({}, None)
