"""The server's status and the journal (outbox) of this workspace."""

from __future__ import annotations

from .base import TypedDict


class StoreInfo(TypedDict):
    """The store in use: ``embedded`` or the URI's scheme, and the URI without any password."""

    kind: str
    uri: str


class JournalCounts(TypedDict):
    """Records of the workspace's journals waiting for MLflow (``pending``) and refused by it
    (``failed``); a journal that cannot be read right now counts in ``unreadable``."""

    pending: int
    failed: int
    journals: int
    unreadable: int


class Status(TypedDict):
    """``GET status``."""

    store: StoreInfo
    journal: JournalCounts


class RefusedRecord(TypedDict):
    """A journal record MLflow refused, with its reason."""

    journal: str
    seq: int
    kind: str
    run_key: str
    error: str | None
    failed: float | str | None


class OutboxState(JournalCounts):
    """``GET outbox``: the journal's counts and its refused records (at most 50)."""

    refused: list[RefusedRecord]
