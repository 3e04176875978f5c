"""Which run a reference means: an id, a run key, a name or an id prefix, never a silent guess.

Shared by the MLflow path (``runs.get_run``) and the embedded reader, so ``show NAME`` answers the
same everywhere: a name several runs share, or a prefix several ids start with, is refused with
the candidates' ids; a prefix under six characters is refused as too short.
"""

from __future__ import annotations

from ..errors import InvalidInput, NotFound

MIN_PREFIX = 6
SHOWN = 5


def _ids(ids: list[str]) -> str:
    shown = ", ".join(i[:12] for i in ids[:SHOWN])
    return shown + (", ..." if len(ids) > SHOWN else "")


def choose_run(ref: str, by_key: list[str], by_name: list[str], by_prefix: list[str]) -> str:
    """The one run id ``ref`` names (candidates newest first), else a one-line refusal."""
    if by_key:
        return by_key[0]
    if len(by_name) == 1:
        return by_name[0]
    if len(by_name) > 1:
        raise InvalidInput(
            f"ambiguous: {len(by_name)} runs named {ref!r}: {_ids(by_name)}",
            hint="give the run id (or its first 8 characters) instead of the name",
        )
    if by_prefix and len(ref) < MIN_PREFIX:
        many = (
            f"{len(by_prefix)} runs start with it" if len(by_prefix) > 1 else "a run starts with it"
        )
        raise InvalidInput(
            f"run id prefix {ref!r} is too short ({many})",
            hint=f"give at least {MIN_PREFIX} characters of the run id",
        )
    if len(by_prefix) > 1:
        raise InvalidInput(
            f"ambiguous: {len(by_prefix)} runs have ids starting with {ref!r}: {_ids(by_prefix)}",
            hint="give more characters of the run id",
        )
    if by_prefix:
        return by_prefix[0]
    raise NotFound(
        f"no run {ref!r} in this workspace",
        hint="list runs with `jupyter-mlops runs` or `%mlops runs`",
    )
