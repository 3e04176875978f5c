"""The ``events:`` section of mlops.yaml: which receivers get which events, and how.

Example::

    events:
      webhooks:
        - name: ops                             # how deliveries name it (default: the URL's host)
          url: https://hooks.example.org/mlops  # or url_env: a variable holding the URL
          secret_env: WEBHOOK_SECRET            # the HMAC-SHA256 key, read from this variable
          events: [alias_moved, rollback, drift_alert, quality_alert]   # default: every kind
          models: [churn]                       # default: every model
          format: json                          # or slack: {"text": "..."} for an incoming webhook
          timeout: 10s                          # one attempt's limit
          retry_for: 1d                         # retried with backoff this long, then failed

Secrets never sit in the file: the signing key comes from the variable ``secret_env`` names, and
a URL that is itself a credential (a Slack incoming webhook) from ``url_env``. The variables are
read by the sync agent, which delivers, so they must be set where it starts (the Jupyter server,
the shell running ``jupyter-mlops``). Errors name the file, the key path and its line, with a
did-you-mean for a misspelled key or event kind.
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from ..config import Site, compose_yaml, did_you_mean
from ..durations import parse_duration
from ..errors import InvalidInput
from ..workspace import Workspace
from .event_record import EVENT_KINDS

SECTION_KEYS = ("webhooks",)
WEBHOOK_KEYS = (
    "name",
    "url",
    "url_env",
    "secret_env",
    "events",
    "models",
    "format",
    "timeout",
    "retry_for",
)
FORMATS = ("json", "slack")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class WebhookNotReady(Exception):
    """A declared receiver cannot be called from this process (a variable is not set)."""


@dataclass(frozen=True)
class WebhookSpec:
    """One declared receiver."""

    name: str
    url: str | None = None
    url_env: str | None = None
    secret_env: str | None = None
    events: tuple[str, ...] = ()  # empty: every kind
    models: tuple[str, ...] = ()  # empty: every model (and events about no model)
    format: str = "json"
    timeout: float = 10.0
    retry_for: float = 86400.0

    def wants(self, kind: str, model: str | None) -> bool:
        if self.events and kind not in self.events:
            return False
        return not self.models or model in self.models

    def target(self) -> str:
        """The URL to post to (from ``url_env`` when it names a variable)."""
        if self.url is not None:
            return self.url
        value = os.environ.get(self.url_env or "", "")
        if not value:
            raise WebhookNotReady(f"{self.url_env} is not set")
        if urlparse(value).scheme not in ("http", "https"):
            raise WebhookNotReady(f"{self.url_env} does not hold an http(s) URL")
        return value

    def secret(self) -> str | None:
        """The signing key, or None for an unsigned (Slack) receiver."""
        if self.secret_env is None:
            return None
        value = os.environ.get(self.secret_env, "")
        if not value:
            raise WebhookNotReady(f"{self.secret_env} is not set")
        return value


def parse_events_section(
    section: Any, *, path: str = "mlops.yaml", node: Any = None
) -> list[WebhookSpec]:
    """The declared receivers of an ``events:`` mapping (ConfigError naming key and line)."""
    site = Site(path, node)
    if section is None:
        return []
    if not isinstance(section, dict):
        raise site.error(["events"], f"must be a mapping, not {type(section).__name__}")
    site.known(["events"], section, SECTION_KEYS)
    hooks = section.get("webhooks")
    if hooks is None:
        return []
    if not isinstance(hooks, list):
        raise site.error(["events", "webhooks"], "must be a list of receivers")
    specs: list[WebhookSpec] = []
    for i, hook in enumerate(hooks):
        spec = _webhook(site, ["events", "webhooks", i], hook)
        if any(s.name == spec.name for s in specs):
            raise site.error(
                ["events", "webhooks", i],
                f"two receivers are named {spec.name!r}",
                hint="give each one its own `name:`",
            )
        specs.append(spec)
    return specs


def _webhook(site: Site, keys: list[str | int], hook: Any) -> WebhookSpec:
    if not isinstance(hook, dict):
        raise site.error(keys, f"must be a mapping with a url, not {type(hook).__name__}")
    site.known(keys, hook, WEBHOOK_KEYS)
    url, url_env = hook.get("url"), hook.get("url_env")
    if (url is None) == (url_env is None):
        raise site.error(keys, "needs `url` or `url_env` (one of them)")
    if url is not None:
        _check_url(site, [*keys, "url"], url)
    fmt = hook.get("format", "json")
    if fmt not in FORMATS:
        raise site.error([*keys, "format"], f"must be one of {', '.join(FORMATS)}, not {fmt!r}")
    for var in ("url_env", "secret_env"):
        value = hook.get(var)
        if value is not None and not (isinstance(value, str) and _ENV_NAME.match(value)):
            raise site.error(
                [*keys, var],
                f"must name an environment variable, not {value!r}",
                hint="put the value itself in that variable; never in mlops.yaml",
            )
    if fmt == "json" and hook.get("secret_env") is None:
        raise site.error(
            keys,
            "needs `secret_env`: the variable holding the key every delivery is signed with",
            hint="e.g. secret_env: WEBHOOK_SECRET (format: slack may go unsigned)",
        )
    events = site.words([*keys, "events"], hook.get("events"))
    for kind in events:
        if kind not in EVENT_KINDS:
            raise site.error(
                [*keys, "events"],
                f"unknown event {kind!r}{did_you_mean(kind, EVENT_KINDS)}",
                hint=f"events: {', '.join(EVENT_KINDS)}",
            )
    name = hook.get("name")
    if name is None:
        name = url_env if url is None else urlparse(url).hostname or "webhook"
    if not isinstance(name, str) or not _NAME.match(name):
        raise site.error([*keys, "name"], f"{name!r} is not a usable name (letters, digits, ._-)")
    return WebhookSpec(
        name=name,
        url=url,
        url_env=url_env,
        secret_env=hook.get("secret_env"),
        events=events,
        models=site.words([*keys, "models"], hook.get("models")),
        format=fmt,
        timeout=_duration(site, [*keys, "timeout"], hook.get("timeout"), 10.0),
        retry_for=_duration(site, [*keys, "retry_for"], hook.get("retry_for"), 86400.0),
    )


def _check_url(site: Site, keys: list[str | int], url: Any) -> None:
    parsed = urlparse(url) if isinstance(url, str) else None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise site.error(keys, f"{url!r} is not an http(s) URL")
    if parsed.password or parsed.username:
        raise site.error(
            keys, "holds a user or password", hint="keep credentials out of mlops.yaml: url_env"
        )
    if parsed.hostname == "hooks.slack.com":
        raise site.error(
            keys,
            "a Slack incoming-webhook URL is itself a secret",
            hint="put it in an environment variable and name that with url_env",
        )


def _duration(site: Site, keys: list[str | int], value: Any, default: float) -> float:
    if value is None:
        return default
    try:
        return parse_duration(value, "value")
    except InvalidInput:
        raise site.error(keys, f"{value!r} is not a duration", hint="e.g. 10s, 5m, 1d") from None


_cache: dict[str, tuple[tuple[int, int], list[WebhookSpec]]] = {}
_cache_guard = threading.Lock()


def load_webhooks(ws: Workspace) -> list[WebhookSpec]:
    """The workspace's declared receivers (none without mlops.yaml or its ``events:``); read
    again only when the file changed, so asking before every event costs a ``stat``."""
    path = ws.config_path
    try:
        st = path.stat()
    except OSError:
        return []
    mark = (st.st_mtime_ns, st.st_size)
    with _cache_guard:
        cached = _cache.get(str(path))
    if cached is not None and cached[0] == mark:
        return cached[1]
    data, node = compose_yaml(path)
    section = data.get("events") if isinstance(data, dict) else None
    specs = parse_events_section(section, path=str(path), node=node)
    with _cache_guard:
        _cache[str(path)] = (mark, specs)
    return specs


def receivers_for(ws: Workspace, kind: str, model: str | None) -> list[WebhookSpec]:
    """The declared receivers that want an event of ``kind`` about ``model``."""
    return [spec for spec in load_webhooks(ws) if spec.wants(kind, model)]
