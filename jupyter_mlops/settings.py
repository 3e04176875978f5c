"""Every ``MLOPS_*`` setting in one typed object: the environment, then mlops.yaml, then the default.

Each setting is declared once below (its variable, its key in the ``settings:`` section of
mlops.yaml, its type and default, one line of help) and read through ``Settings``: the code never
reads an ``MLOPS_*`` variable itself. A value is parsed when it is first asked for, so a bad
``MLOPS_LEASE_TTL`` stops a release action with one clear line and never a ``runs`` listing.
``jupyter-mlops config`` (and ``%mlops config``) lists them all with where each value came from.

A few variables are set by jupyter-mlops itself for the processes it starts (a build's kernels,
a reproduction's notebook): they are settings too, listed as such, with no mlops.yaml key.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar, overload

from .config import compose_yaml, did_you_mean, key_line
from .errors import ConfigError, InvalidInput

T = TypeVar("T")
SECTION = "settings"  # the mlops.yaml section holding the settings that may be written down

USER = "user"
SERVING = "serving image"
INTERNAL = "set by jupyter-mlops"  # for the processes it starts; never written by hand


class Bad(ValueError):
    """A value a parser refuses; its message says what was expected."""


def text(raw: str) -> str:
    value = raw.strip()
    if not value:
        raise Bad("must not be empty")
    return value


def folder(raw: str) -> Path:
    return Path(text(raw))


def switch(raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise Bad("must be true or false (1 or 0)")


def seconds(low: float, high: float) -> Callable[[str], float]:
    def parse(raw: str) -> float:
        try:
            value = float(raw)
        except ValueError:
            raise Bad(f"must be a number of seconds, got {raw!r}") from None
        if not low <= value < high or value != value:
            raise Bad(f"must be between {low:g} and {high:g} seconds, got {raw!r}")
        return value

    return parse


class Setting(Generic[T]):
    """One ``MLOPS_*`` setting: read as ``settings.<name>`` (typed), listed by ``config``."""

    def __init__(
        self,
        env: str,
        parse: Callable[[str], T],
        default: T,
        help: str,
        *,
        yaml_key: str | None = "",
        audience: str = USER,
    ) -> None:
        self.env, self.parse, self.default, self.help = env, parse, default, help
        self.audience = audience
        self._yaml_key = yaml_key  # "" until __set_name__: settings.<name>; None: environment only
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        if self._yaml_key == "":
            self._yaml_key = f"{SECTION}.{name}"

    @property
    def yaml_key(self) -> str | None:
        """Where mlops.yaml may set it (``settings.lease_ttl``); None: the environment only."""
        return self._yaml_key

    @overload
    def __get__(self, obj: None, owner: type) -> Setting[T]: ...
    @overload
    def __get__(self, obj: Settings, owner: type) -> T: ...
    def __get__(self, obj: Settings | None, owner: type) -> Setting[T] | T:
        if obj is None:
            return self
        return obj.resolve(self).value


@dataclass(frozen=True)
class Resolved(Generic[T]):
    """A setting's value and where it came from (``origin``: environment, mlops.yaml, default)."""

    setting: Setting[T]
    value: T
    origin: str


class Settings:
    """The settings of one project: ``Settings(ws.config, ws.config_path)``, or ``Settings()``
    outside a project (the environment and the defaults only). ``ws.settings`` is the usual way."""

    workspace: Setting[Path | None] = Setting(
        "MLOPS_WORKSPACE",
        folder,
        None,
        "the project folder (default: found from the current folder)",
        yaml_key=None,
    )
    experiment: Setting[str | None] = Setting(
        "MLOPS_EXPERIMENT",
        text,
        None,
        "the default MLflow experiment (default: the project name)",
        yaml_key="experiment",
    )
    tracking_db_uri: Setting[str | None] = Setting(
        "MLOPS_TRACKING_DB_URI",
        text,
        None,
        "a team server's PostgreSQL database the runs page may read directly (read-only role)",
    )
    actor: Setting[str | None] = Setting(
        "MLOPS_ACTOR",
        text,
        None,
        "who acts in the release history when the tracking server names nobody (services, CI)",
    )
    lease_ttl: Setting[float] = Setting(
        "MLOPS_LEASE_TTL",
        seconds(0, 3600),
        30.0,
        "seconds a release lease lasts if its holder dies",
    )
    lease_settle: Setting[float] = Setting(
        "MLOPS_LEASE_SETTLE",
        seconds(0, 3600),
        1.0,
        "seconds a release lease waits between its write and its re-read on a team server",
    )
    store_probe_timeout: Setting[float] = Setting(
        "MLOPS_STORE_PROBE_TIMEOUT",
        seconds(0, 3600),
        3.0,
        "seconds the Jupyter server waits for a tracking server's /health before answering 503",
    )
    agent_idle: Setting[float] = Setting(
        "MLOPS_AGENT_IDLE",
        seconds(0, 86400),
        300.0,
        "seconds the sync agent waits with nothing to send before it stops",
    )
    engine_tracking: Setting[bool] = Setting(
        "MLOPS_ENGINE_TRACKING",
        switch,
        True,
        "whether `papermill --engine mlops` tracks the notebook's run (false: it only executes)",
    )
    replica: Setting[str | None] = Setting(
        "MLOPS_REPLICA",
        text,
        None,
        "this model server's name in shipped prediction logs (default: host and process id)",
    )
    package: Setting[Path] = Setting(
        "MLOPS_PACKAGE",
        folder,
        Path("/opt/model"),
        "the packaged model folder the image serves without a tracking server",
        audience=SERVING,
    )
    model: Setting[str | None] = Setting(
        "MLOPS_MODEL",
        text,
        None,
        "the registered model the image serves (default: the package's)",
        audience=SERVING,
    )
    poll: Setting[float] = Setting(
        "MLOPS_POLL",
        seconds(0.01, 3600),
        0.25,
        "seconds between the image's reads of the model's aliases",
        audience=SERVING,
    )
    guard: Setting[bool | None] = Setting(
        "MLOPS_GUARD",
        switch,
        None,
        "whether the image runs the canary guard (default: monitor.canary.guard)",
        audience=SERVING,
    )
    versions: Setting[str | None] = Setting(
        "MLOPS_VERSIONS",
        text,
        None,
        "the KServe log collector's version=alias pairs (3=champion,4=canary)",
        yaml_key=None,
        audience=SERVING,
    )
    signing_key: Setting[str | None] = Setting(
        "MLOPS_SIGNING_KEY",
        text,
        None,
        "the private key (a path or PEM text) that signs models when release.signing names none",
        yaml_key=None,
    )
    signing_public_key: Setting[str | None] = Setting(
        "MLOPS_SIGNING_PUBLIC_KEY",
        text,
        None,
        "the public key that verifies signatures when release.signing names none",
        yaml_key=None,
    )
    redaction: Setting[bool | None] = Setting(
        "MLOPS_REDACTION",
        switch,
        None,
        "false or off: no redaction of captured values, with a warning on every run "
        "(default: redaction.enabled)",
        yaml_key=None,
    )
    cache_dir: Setting[Path | None] = Setting(
        "MLOPS_CACHE_DIR",
        folder,
        None,
        "where detect-secrets' expressions are cached (default: $XDG_CACHE_HOME, else ~/.cache)",
        yaml_key=None,
    )
    parent_run_id: Setting[str | None] = Setting(
        "MLOPS_PARENT_RUN_ID",
        text,
        None,
        "the run a kernel's tracked cells are children of (a build step, a reproduction)",
        yaml_key=None,
        audience=INTERNAL,
    )
    parent_key: Setting[str | None] = Setting(
        "MLOPS_PARENT_KEY",
        text,
        None,
        "the journal key of that parent run while it has no MLflow id yet",
        yaml_key=None,
        audience=INTERNAL,
    )
    notebook_path: Setting[str | None] = Setting(
        "MLOPS_NOTEBOOK_PATH",
        text,
        None,
        "the notebook a kernel runs, recorded on its runs",
        yaml_key=None,
        audience=INTERNAL,
    )
    step_metrics_file: Setting[Path | None] = Setting(
        "MLOPS_STEP_METRICS_FILE",
        folder,
        None,
        "where a build step's log_step_metrics writes",
        yaml_key=None,
        audience=INTERNAL,
    )
    kernel_name: Setting[str] = Setting(
        "MLOPS_KERNEL_NAME",
        text,
        "",
        "the kernel a build step runs in, recorded in its environment",
        yaml_key=None,
        audience=INTERNAL,
    )
    driver_lands_records: Setting[bool] = Setting(
        "MLOPS_DRIVER_LANDS_RECORDS",
        switch,
        False,
        "whether the process that started a kernel lands its records once the notebook ran "
        "(a build, `papermill --engine mlops`): its cells then need not wait for them",
        yaml_key=None,
        audience=INTERNAL,
    )

    def __init__(
        self,
        config: Mapping[str, Any] | None = None,
        path: Path | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.config = config or {}
        self.path = path
        self.environ = environ  # None: the process environment, read at each access
        section = self.config.get(SECTION)
        if section is not None and not isinstance(section, Mapping):
            raise self._config_error([SECTION], "must be a mapping of setting names to values")
        self.section: Mapping[str, Any] = section or {}
        known = [s.name for s in declared() if s.yaml_key == f"{SECTION}.{s.name}"]
        for key in self.section:
            if key not in known:
                raise self._config_error(
                    [SECTION, key],
                    f"unknown setting{did_you_mean(key, known)}",
                    hint=f"known: {', '.join(known)}",
                )

    def resolve(self, setting: Setting[T]) -> Resolved[T]:
        """``setting``'s value: from the environment, else mlops.yaml, else its default."""
        env = os.environ if self.environ is None else self.environ
        raw = env.get(setting.env)
        if raw is not None and raw.strip():
            try:
                return Resolved(setting, setting.parse(raw), f"environment ({setting.env})")
            except Bad as exc:
                raise InvalidInput(
                    f"{setting.env} {exc}", hint=f"{setting.help}; unset it for the default"
                ) from None
        keys = (setting.yaml_key or "").split(".") if setting.yaml_key else []
        value: Any = self.config
        for key in keys:
            value = value.get(key) if isinstance(value, Mapping) else None
        if keys and value is not None:
            try:
                parsed = setting.parse(
                    str(value).lower() if isinstance(value, bool) else str(value)
                )
            except Bad as exc:
                raise self._config_error(keys, str(exc)) from None
            return Resolved(setting, parsed, f"mlops.yaml ({setting.yaml_key})")
        return Resolved(setting, setting.default, "default")

    def listing(self) -> list[Resolved[Any]]:
        """Every setting with its value and where it came from, in declaration order."""
        return [self.resolve(s) for s in declared()]

    def line_of(self, setting: Setting[Any]) -> int | None:
        """The line of mlops.yaml that sets ``setting``, when it does."""
        if self.path is None or not setting.yaml_key:
            return None
        _, node = compose_yaml(self.path)
        return key_line(node, setting.yaml_key.split("."))

    def _config_error(self, keys: list[str], message: str, hint: str | None = None) -> ConfigError:
        line = None
        if self.path is not None:
            try:
                line = key_line(compose_yaml(self.path)[1], keys)
            except ConfigError:
                line = None
        return ConfigError(
            message, path=str(self.path or "mlops.yaml"), key=".".join(keys), line=line, hint=hint
        )


def declared() -> list[Setting[Any]]:
    """Every declared setting, in the order ``Settings`` declares them."""
    return [v for v in vars(Settings).values() if isinstance(v, Setting)]


def child_environment(**values: object) -> dict[str, str]:
    """The variables that hand settings to a process we start (a kernel, a notebook run), by
    setting name: ``child_environment(parent_run_id=rid)``; None values are left out."""
    by_name = {s.name: s for s in declared()}
    unknown = sorted(set(values) - set(by_name))
    if unknown:
        raise TypeError(f"no setting named {unknown[0]!r}")
    return {by_name[k].env: str(v) for k, v in values.items() if v is not None}


def environment_settings() -> Settings:
    """The settings a process has outside any project: its environment and the defaults."""
    return Settings()
