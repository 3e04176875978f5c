"""The body of every error answer, and the typing every contract module uses."""

from __future__ import annotations

import sys

if sys.version_info >= (3, 12):
    from typing import NotRequired, TypedDict
else:  # the schema generator (pydantic) reads only typing_extensions' TypedDict before 3.12
    from typing_extensions import NotRequired, TypedDict

__all__ = ["ErrorResponse", "NotRequired", "TypedDict"]


class ErrorResponse(TypedDict):
    """The body of every error answer: what went wrong and how to fix it."""

    error: str
    hint: str | None
    error_id: NotRequired[str]  # an unexpected error: the server log's entry for it
