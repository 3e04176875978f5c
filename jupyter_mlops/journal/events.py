"""Events out: ``emit`` journals what happened, the sync agent delivers it to the webhooks.

    from jupyter_mlops.journal.events import emit, ALIAS_MOVED
    emit(ws, ALIAS_MOVED, model="churn", payload={"alias": "champion", "version": "3"})

Any layer above the journal may call it (release actions, monitor alerts, the loop). It costs a
``stat`` of mlops.yaml when no receiver wants the event, and one journal append (a fraction of a
millisecond, no network) when one does, its payload passed through the workspace's redactor; the sync agent then hands it to the delivery queue in
journal order and delivers it (``deliveries.py``, ``webhooks.py``). Emitting never raises into
the action that emits: a release that moved an alias has moved it, whatever happens to its
announcement (a problem is logged, and a broken ``events:`` section says so in one line).

Payload conventions per kind (``data`` of the delivered JSON), so that receivers can rely on
them: ``alias_moved`` {alias, version (None: removed), previous_version, action, weight?, reason?};
``version_registered`` {version, run_id, model_id}; ``gate_verdict`` {version, verdict, failed,
gate_run_id, metrics}; ``approval_requested`` {version, alias, requested_by?, cycle?};
``approval_decided`` {version, alias, decision: approved|rejected, reason?}; ``rollback``
{alias, version (now serving, if any), from_version, reason?}; ``drift_alert`` and
``quality_alert`` {alerts, window_s, ...figures}; ``run_finished`` {run_id, run_key, name,
experiment, status, kind, duration_s}; ``cycle_finished`` {cycle, outcome, reason, version?}.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from ..errors import InvalidInput, MlopsError
from ..redact import redact_document, redactor_for
from ..workspace import Workspace
from . import flusher
from .event_record import (
    ALIAS_MOVED,
    APPROVAL_DECIDED,
    APPROVAL_REQUESTED,
    CYCLE_FINISHED,
    DRIFT_ALERT,
    EVENT_KINDS,
    GATE_VERDICT,
    KEY_PREFIX,
    QUALITY_ALERT,
    ROLLBACK,
    RUN_FINISHED,
    VERSION_REGISTERED,
    Event,
    describe,
    event_id,
    plain,
)
from .outbox import Outbox
from .records import AnnounceEvent
from .webhook_spec import receivers_for

log = logging.getLogger("jupyter_mlops")

__all__ = [
    "ALIAS_MOVED",
    "APPROVAL_DECIDED",
    "APPROVAL_REQUESTED",
    "CYCLE_FINISHED",
    "DRIFT_ALERT",
    "EVENT_KINDS",
    "GATE_VERDICT",
    "QUALITY_ALERT",
    "ROLLBACK",
    "RUN_FINISHED",
    "VERSION_REGISTERED",
    "Event",
    "describe",
    "emit",
    "event_id",
]


def emit(
    ws: Workspace,
    kind: str,
    *,
    model: str | None = None,
    payload: dict[str, Any] | None = None,
    actor: str | None = None,
    key: tuple[object, ...] | None = None,
    box: Outbox | None = None,
) -> str | None:
    """Journal one event of ``kind`` about ``model``; its id, or None when no declared receiver
    wants it (nothing is journaled then) or it could not be journaled (logged).

    ``key``: what identifies the event, for an id every process derives alike (an announcement
    two processes might both make is then delivered once). ``box``: append to this journal, in
    its open batch (the journal's own writers), instead of this process's."""
    if kind not in EVENT_KINDS:
        raise InvalidInput(f"unknown event kind {kind!r}", hint=f"one of {', '.join(EVENT_KINDS)}")
    try:
        if not receivers_for(ws, kind, model):
            return None
        # it leaves for other systems: a secret in a reason or an error goes no further
        data, _ = redact_document(redactor_for(ws.config, ws.config_path), plain(payload or {}))
        event = Event(kind=kind, project=ws.name, model=model, data=data, actor=actor)
        if key is not None:  # the same id wherever it is announced
            event = replace(event, id=event_id(kind, model, *key))
        record = AnnounceEvent(
            id=event.id,
            kind=event.kind,
            project=event.project,
            ts=event.ts,
            model=event.model,
            data=event.data,
            actor=event.actor,
        )
        if box is not None:
            box.append(KEY_PREFIX + event.id, record)
            return event.id
        sink = flusher.sink_for(ws)
        sink.box.append(KEY_PREFIX + event.id, record)
        sink.kick()
        return event.id
    except MlopsError as exc:  # e.g. a mistake in mlops.yaml's events: section
        log.warning("jupyter-mlops: %s event not sent: %s", kind, exc)
    except Exception as exc:  # the action that emits must not fail for its announcement
        log.warning("jupyter-mlops: %s event not sent: %s: %s", kind, type(exc).__name__, exc)
    return None
