"""Events out: webhook receivers and their deliveries."""

from __future__ import annotations

from typing import Literal

from .base import TypedDict


class WebhookReceiver(TypedDict):
    """A receiver declared under ``events.webhooks``: where it posts (no path or token), the
    kinds and models it takes (empty: all), and why it cannot be called from here, if so."""

    name: str
    target: str
    format: Literal["json", "slack"]
    events: list[str]
    models: list[str]
    signed: bool
    problem: str | None


class DeliveryCounts(TypedDict):
    pending: int
    delivered: int
    failed: int


class EventDelivery(TypedDict):
    """One event on its way to one receiver: its state, attempts, the last answer (HTTP
    status) and error, when the next attempt is due (pending) and when it was delivered."""

    event_id: str
    kind: str
    model: str | None
    text: str
    ts: float
    receiver: str
    state: Literal["pending", "delivered", "failed"]
    attempts: int
    next_try: float | None
    last_try: float | None
    status: int | None
    error: str | None
    delivered: float | None


class EventStatus(TypedDict):
    """``GET events``: the declared receivers and the newest deliveries, newest first."""

    receivers: list[WebhookReceiver]
    counts: DeliveryCounts
    deliveries: list[EventDelivery]
    agent_running: bool
    retried: int
    problems: list[str]
