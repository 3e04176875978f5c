"""Delivering events to webhooks: signed like MLflow's own, retried with backoff, never blocking.

Signing follows MLflow's registry webhooks (``mlflow/webhooks/delivery.py``), so a receiver
written for them verifies ours unchanged: ``X-MLflow-Delivery-Id`` (here the event id, the same
in every attempt: the idempotency key, as Standard Webhooks' ``webhook-id``), ``X-MLflow-Timestamp``
(Unix seconds of this attempt) and ``X-MLflow-Signature: v1,<base64 HMAC-SHA256 of
"{delivery id}.{timestamp}.{body}">`` keyed with the receiver's secret. ``X-Mlops-Event`` names
the kind. A receiver should refuse a timestamp more than a few minutes old (``verify`` does).

Where delivery runs: in the sync agent, one thread per receiver, each taking its own deliveries
in the order they were queued (so in order per model). A receiver that is down or slow holds
only its own thread: an attempt is bounded by the receiver's ``timeout``, a failure waits 1, 2,
4 ... up to 300 s before the next attempt, and neither the other receivers nor the MLflow replay
wait for it. A receiver answering 2xx has the event; a 4xx other than 408 and 429 is a refusal
(retrying cannot help: the delivery fails at once); anything else (no answer, 5xx, 408, 429) is
retried for the receiver's ``retry_for``. Only the holder of ``.mlops/locks/webhooks.lock``
delivers, so two agents of one folder never send an event twice.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .._version import __version__
from ..locks import FileLock
from ..workspace import Workspace
from .deliveries import Delivery, DeliveryQueue, queue_path
from .event_record import Event, describe
from .webhook_spec import WebhookNotReady, WebhookSpec, load_webhooks

log = logging.getLogger("jupyter_mlops")

SIGNATURE_HEADER = "X-MLflow-Signature"
TIMESTAMP_HEADER = "X-MLflow-Timestamp"
DELIVERY_ID_HEADER = "X-MLflow-Delivery-Id"
EVENT_HEADER = "X-Mlops-Event"
SIGNATURE_VERSION = "v1"
TOLERANCE_S = 300  # how old a timestamp ``verify`` accepts
BACKOFF_FIRST_S = 1.0
BACKOFF_MAX_S = 300.0
POLL_S = 1.0  # a worker looks at its queue at least this often
_RETRIED_4XX = (408, 429)


def sign(secret: str, delivery_id: str, timestamp: str, body: str) -> str:
    """``v1,<base64 HMAC-SHA256>`` of ``{delivery_id}.{timestamp}.{body}`` (MLflow's scheme)."""
    content = f"{delivery_id}.{timestamp}.{body}".encode()
    digest = hmac.new(secret.encode("utf-8"), content, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode('ascii')}"


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes | str,
    *,
    tolerance: float = TOLERANCE_S,
    now: float | None = None,
) -> bool:
    """For a receiver written in Python: is this delivery signed with ``secret``, and recent?"""
    lowered = {k.lower(): v for k, v in headers.items()}
    delivery = lowered.get(DELIVERY_ID_HEADER.lower(), "")
    stamp = lowered.get(TIMESTAMP_HEADER.lower(), "")
    given = lowered.get(SIGNATURE_HEADER.lower(), "")
    if not (delivery and stamp.isdigit() and given):
        return False
    if abs((now if now is not None else time.time()) - int(stamp)) > tolerance:
        return False
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    return hmac.compare_digest(sign(secret, delivery, stamp, text), given)


def render(event: Event, fmt: str) -> str:
    """The request body: the event as JSON, or Slack's incoming-webhook ``{"text": ...}``."""
    if fmt == "slack":
        return json.dumps({"text": describe(event)}, ensure_ascii=False)
    return json.dumps(event.to_dict(), sort_keys=True, separators=(",", ":"), default=str)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer: urllib would re-send a POST as a GET without its body."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


@dataclass(frozen=True)
class Attempt:
    """What one attempt got: ``delivered``, ``retry`` or ``refused``, the HTTP status, why."""

    outcome: str
    status: int | None = None
    error: str | None = None


def post(spec: WebhookSpec, event: Event) -> Attempt:
    """One attempt to deliver ``event`` to ``spec`` (never raises)."""
    try:
        url, secret = spec.target(), spec.secret()
    except WebhookNotReady as exc:  # set it where the agent starts; then it goes out
        return Attempt(
            "retry",
            None,
            f"{exc} in the sync agent's environment: set it where the agent starts, then "
            "`jupyter-mlops agent stop` (the next record starts it again)",
        )
    body = render(event, spec.format)
    stamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": f"jupyter-mlops/{__version__}",
        DELIVERY_ID_HEADER: event.id,
        TIMESTAMP_HEADER: stamp,
        EVENT_HEADER: event.kind,
    }
    if secret:
        headers[SIGNATURE_HEADER] = sign(secret, event.id, stamp, body)
    request = urllib.request.Request(url, data=body.encode(), headers=headers, method="POST")
    try:
        with _OPENER.open(request, timeout=spec.timeout) as answer:
            answer.read(65536)
            status = int(answer.status)
    except urllib.error.HTTPError as exc:
        status = int(exc.code)
        exc.close()
    except (OSError, http.client.HTTPException, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        return Attempt("retry", None, f"{type(exc).__name__}: {reason}"[:500])
    if 200 <= status < 300:
        return Attempt("delivered", status)
    if 300 <= status < 400:
        return Attempt("refused", status, f"redirected ({status}): declare the final URL")
    if 400 <= status < 500 and status not in _RETRIED_4XX:
        return Attempt("refused", status, f"the receiver refused it ({status})")
    return Attempt("retry", status, f"the receiver answered {status}")


def backoff(attempts: int) -> float:
    """Seconds to wait after the ``attempts``-th failed attempt (1, 2, 4 ... 300)."""
    return float(min(BACKOFF_FIRST_S * 2.0 ** max(attempts - 1, 0), BACKOFF_MAX_S))


class _ReceiverWorker:
    """Delivers one receiver's events, oldest first, in a daemon thread."""

    def __init__(self, ws: Workspace, name: str, stop: threading.Event) -> None:
        self.ws, self.name, self._stop = ws, name, stop
        self.queue = DeliveryQueue(queue_path(ws))
        self.wake = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"webhook-{name}", daemon=True)

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                try:
                    pause = self._step()
                except Exception as exc:  # a locked queue, a broken mlops.yaml: try again soon
                    log.warning("jupyter-mlops: webhook %s: %s", self.name, exc)
                    pause = POLL_S
                if pause > 0:
                    self.wake.wait(pause)
                    self.wake.clear()
        finally:
            self.queue.close()

    def _step(self) -> float:
        """Deliver the oldest pending event if it is due; how long to wait before looking again."""
        delivery = self.queue.next_for(self.name)
        if delivery is None:
            return POLL_S
        due = delivery.next_try - time.time()
        if due > 0:
            return min(due, POLL_S)
        spec = next((s for s in load_webhooks(self.ws) if s.name == self.name), None)
        if spec is None:
            self._settle(delivery, Attempt("refused", None, "no longer declared in mlops.yaml"))
            return 0.0
        self._settle(delivery, post(spec, delivery.event), spec)
        return 0.0

    def _settle(
        self, delivery: Delivery, attempt: Attempt, spec: WebhookSpec | None = None
    ) -> None:
        if attempt.outcome == "delivered":
            self.queue.record_attempt(
                delivery, state="delivered", status=attempt.status, error=None
            )
            return
        expired = spec is not None and time.time() - delivery.since > spec.retry_for
        if attempt.outcome == "refused" or expired:
            error = attempt.error if not expired else f"gave up: {attempt.error}"
            self.queue.record_attempt(delivery, state="failed", status=attempt.status, error=error)
            log.warning(
                "jupyter-mlops: webhook %s: event %s failed: %s",
                self.name,
                delivery.event.id,
                error,
            )
            return
        wait = backoff(delivery.attempts + 1)
        self.queue.record_attempt(
            delivery,
            state="pending",
            status=attempt.status,
            error=attempt.error,
            next_try=time.time() + wait,
        )


class WebhookDispatcher:
    """The agent's deliveries: a worker per receiver with events waiting, started on ``poke``."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self._lock = FileLock(ws.state_dir / "locks" / "webhooks.lock")
        self._held = False
        self._stop = threading.Event()
        self._workers: dict[str, _ReceiverWorker] = {}
        self._queue: DeliveryQueue | None = None
        self._busy: tuple[float, bool] = (0.0, False)  # (when counted, deliveries pending)

    def _ready(self) -> bool:
        """True once this process delivers (it holds the lock and the queue exists)."""
        if self._stop.is_set() or not queue_path(self.ws).is_file():
            return False
        if not self._held:
            self._held = self._lock.acquire(blocking=False)
            if self._held:
                self._queue = DeliveryQueue(queue_path(self.ws))
                self._queue.prune()
        return self._held

    def poke(self) -> None:
        """New deliveries may be queued: make sure each receiver with some has a worker awake."""
        if not self._ready() or self._queue is None:
            return
        for name in self._queue.waiting_receivers():
            worker = self._workers.get(name)
            if worker is None:
                worker = self._workers[name] = _ReceiverWorker(self.ws, name, self._stop)
                worker.thread.start()
            worker.wake.set()

    def busy(self) -> bool:
        """Deliveries still wait (the agent stays up for them); counted at most once a second."""
        now = time.monotonic()
        if now - self._busy[0] >= POLL_S:
            pending = self._ready() and self._queue is not None and self._queue.pending_count()
            self._busy = (now, bool(pending))
        return self._busy[1]

    def stop(self, timeout: float = 1.0) -> None:
        """Stop the workers; a delivery in flight is sent again by the next agent (same id)."""
        self._stop.set()
        for worker in self._workers.values():
            worker.wake.set()
        deadline = time.monotonic() + timeout
        for worker in self._workers.values():
            worker.thread.join(max(deadline - time.monotonic(), 0.01))
        if self._queue is not None:
            self._queue.close()
        if self._held:
            self._lock.release()
            self._held = False
