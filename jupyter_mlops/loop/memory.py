"""What the loop keeps between rounds, in the registry itself (registered-model tags), so a
restarted loop, or another machine's that takes over as leader, goes on where the last stopped:

- ``mlops.loop.trigger.<name>``: what each trigger saw last (digest, condition start, next
  scheduled firing), as JSON;
- ``mlops.loop.request.<ms>.<random>``: a firing asked for by hand (``loop run`` while a loop
  process leads, the sidebar's Run now), which the leader takes at its next round.
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from ..store.gateway import Gateway
from ..tags import KIND_TAG, LOOP_REQUEST_PREFIX, LOOP_TRIGGER_PREFIX, loop_trigger_tag
from .firing import Firing


def ensure_model(gw: Gateway, model: str) -> dict[str, str]:
    """The registered model's tags; the model is created (empty) when the loop meets it first,
    since its lease and memory live on it."""
    from mlflow.exceptions import MlflowException

    client = gw.client
    try:
        return dict(client.get_registered_model(model).tags)
    except MlflowException:
        pass
    try:
        client.create_registered_model(model, tags={KIND_TAG: "model"})
    except MlflowException as exc:
        if "already exists" not in str(exc).lower():
            raise
    return dict(client.get_registered_model(model).tags)


def memories(tags: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Each trigger's memory by trigger name (a hand-edited, unreadable one is forgotten)."""
    out: dict[str, dict[str, Any]] = {}
    for key, raw in tags.items():
        if key.startswith(LOOP_TRIGGER_PREFIX):
            try:
                value = json.loads(raw)
            except ValueError:
                continue
            if isinstance(value, dict):
                out[key[len(LOOP_TRIGGER_PREFIX) :]] = value
    return out


def remember(gw: Gateway, model: str, name: str, memory: dict[str, Any]) -> None:
    gw.client.set_registered_model_tag(
        model, loop_trigger_tag(name), json.dumps(memory, sort_keys=True, default=str)
    )


def request_firing(gw: Gateway, model: str, trigger: str, who: str) -> str:
    """Ask the leading loop for a cycle (its next round takes it); the request's tag key."""
    key = f"{LOOP_REQUEST_PREFIX}{int(time.time() * 1000):013d}.{secrets.token_hex(3)}"
    body = {"trigger": trigger, "by": who, "at": time.time()}
    gw.client.set_registered_model_tag(model, key, json.dumps(body))
    return key


def take_requests(gw: Gateway, model: str, tags: dict[str, str]) -> list[Firing]:
    """The firings asked for by hand, oldest first; each is deleted as it is taken."""
    out = []
    for key in sorted(k for k in tags if k.startswith(LOOP_REQUEST_PREFIX)):
        try:
            body = json.loads(tags[key])
        except ValueError:
            body = {}
        gw.client.delete_registered_model_tag(model, key)
        trigger = str(body.get("trigger") or "manual")
        who = str(body.get("by") or "someone")
        at = float(body.get("at") or time.time())
        out.append(Firing(trigger, "manual", f"by hand ({who})", at, {"by": who}))
    return out
