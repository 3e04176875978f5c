"""The ``loop:`` section of mlops.yaml: what starts a release cycle, and how far a cycle goes.

Example::

    loop:
      model: churn                    # default: release.model
      poll: 30s                       # how often `jupyter-mlops loop serve` checks the triggers
      triggers:
        nightly: {schedule: "0 3 * * *"}              # cron, in UTC unless `timezone:` says
        new-data: {watch: [data/raw.csv, data/extra/]} # a file or folder changes its digest
        new-version: {dataset: transactions}          # a registered dataset gets a new version
        fresh-rows: {command: "python count_rows.py"} # its output changes (a query, an API)
        drift: {alert: input_drift, threshold: 0.2, window: 1h, sustained: 10m}
        quality: {alert: quality, metric: accuracy, threshold: 0.85, sustained: 30m}
      cycle:
        steps: [prepare, train, evaluate]  # what to build (default: every step)
        register: train               # whose best run is registered (default: the last step
                                      # whose runs logged a model)
        promote: [staging, canary, champion]  # how far the aliases move (default: all three)
        canary_weight: 20             # default: release.rollout.canary_weight
        watch: 5m                     # the canary is guarded this long before champion

A manual firing (`jupyter-mlops loop run`) needs no declaration. Errors name the file, the key
path and its line, with a did-you-mean for a misspelled key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal
from zoneinfo import ZoneInfo

from ..config import compose_yaml, did_you_mean
from ..errors import InvalidInput
from ..monitor.thresholds import parse_duration
from ..release.gates.spec_check import Keys, SpecSite
from ..release.policy import load_policy
from ..release.registered_model import check_name
from ..workspace import Workspace

SECTION_KEYS = ("model", "poll", "triggers", "cycle")
CYCLE_KEYS = ("steps", "register", "promote", "canary_weight", "watch")
ALIAS_ORDER = ("staging", "canary", "champion")
ALERT_SIGNALS = ("input_drift", "prediction_drift", "quality")
TRIGGER_KINDS = ("schedule", "watch", "dataset", "command", "alert")
TRIGGER_KEYS: dict[str, tuple[str, ...]] = {
    "schedule": ("schedule", "timezone"),
    "watch": ("watch",),
    "dataset": ("dataset",),
    "command": ("command", "timeout"),
    "alert": ("alert", "metric", "threshold", "window", "sustained"),
}
MANUAL = "manual"  # the reason of a cycle started by hand; no declaration needed

TriggerKind = Literal["schedule", "watch", "dataset", "command", "alert"]


@dataclass(frozen=True)
class Trigger:
    """One declared trigger. Only the fields of its ``kind`` are set."""

    name: str
    kind: TriggerKind
    cron: str | None = None  # schedule
    timezone: str = "UTC"  # schedule
    paths: tuple[str, ...] = ()  # watch: files or folders, relative to the project root
    dataset: str | None = None  # dataset: a registered dataset name
    command: str | None = None  # command: its standard output is digested
    timeout: float = 60.0  # command
    signal: str | None = None  # alert: input_drift | prediction_drift | quality
    metric: str | None = None  # alert on quality: accuracy, recall, mae, ...
    threshold: float | None = None  # alert: None means the monitor: section's threshold
    window: float = 3600.0  # alert: the monitor window it is computed over, seconds
    sustained: float = 0.0  # alert: it must hold this long before the trigger fires, seconds


@dataclass(frozen=True)
class CycleSpec:
    steps: tuple[str, ...] = ()  # empty: every step of the pipeline
    register: str | None = None  # the step whose best run is registered (None: found)
    promote: tuple[str, ...] = ALIAS_ORDER
    canary_weight: float | None = None  # None: release.rollout.canary_weight
    watch: float = 300.0  # seconds the canary is guarded before it becomes champion


@dataclass(frozen=True)
class LoopSpec:
    model: str | None = None
    poll: float = 30.0
    triggers: dict[str, Trigger] = field(default_factory=dict)
    cycle: CycleSpec = field(default_factory=CycleSpec)
    source: str = "defaults"

    def scheduled(self) -> list[Trigger]:
        return [t for t in self.triggers.values() if t.kind == "schedule"]


def load_loop_spec(ws: Workspace) -> LoopSpec:
    """The workspace's loop (no triggers when mlops.yaml has no ``loop:``)."""
    if not ws.config_path.is_file():
        return LoopSpec()
    data, node = compose_yaml(ws.config_path)
    if not isinstance(data, dict) or data.get("loop") is None:
        return LoopSpec(model=load_policy(ws).model_name)
    steps = tuple((data.get("steps") or {}).keys()) if isinstance(data.get("steps"), dict) else ()
    return parse_loop(ws, data["loop"], node, known_steps=steps)


def parse_loop(
    ws: Workspace, section: Any, node: Any = None, *, known_steps: tuple[str, ...] = ()
) -> LoopSpec:
    site = SpecSite(ws, node)
    base: Keys = ["loop"]
    section = site.mapping(base, section)
    _known_keys(site, base, section, SECTION_KEYS)
    model = section.get("model")
    if model is not None:
        try:
            model = check_name(str(model))
        except InvalidInput as exc:
            raise site.error(base + ["model"], exc.message) from None
    else:
        model = load_policy(ws).model_name
    poll = _duration(site, base + ["poll"], section.get("poll", 30.0))
    triggers_map = site.mapping(base + ["triggers"], section.get("triggers"))
    triggers = {
        str(name): _trigger(site, base + ["triggers", str(name)], str(name), spec)
        for name, spec in triggers_map.items()
    }
    cycle = _cycle(site, base + ["cycle"], section.get("cycle"), known_steps)
    return LoopSpec(
        model=model, poll=poll, triggers=triggers, cycle=cycle, source=str(ws.config_path)
    )


def _known_keys(
    site: SpecSite, keys: Keys, mapping: dict[str, Any], known: tuple[str, ...]
) -> None:
    unknown = sorted(str(k) for k in set(mapping) - set(known))
    if unknown:
        raise site.error(
            keys + [unknown[0]],
            f"unknown key{did_you_mean(unknown[0], known)}",
            hint=f"known: {', '.join(known)}",
        )


def _duration(site: SpecSite, keys: Keys, value: Any) -> float:
    try:
        return parse_duration(value, ".".join(str(k) for k in keys))
    except InvalidInput as exc:
        raise site.error(keys, exc.message, hint=exc.hint) from None


def _text(site: SpecSite, keys: Keys, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise site.error(keys, f"must be a non-empty string, not {value!r}")
    return value.strip()


def _trigger(site: SpecSite, keys: Keys, name: str, spec: Any) -> Trigger:
    spec = site.mapping(keys, spec)
    kinds = [k for k in TRIGGER_KINDS if k in spec]
    if len(kinds) != 1:
        found = f"found {', '.join(kinds)}" if kinds else "found none"
        raise site.error(
            keys,
            f"a trigger needs exactly one of {', '.join(TRIGGER_KINDS)} ({found})",
            hint="e.g. {schedule: '0 3 * * *'} or {watch: [data/raw.csv]}",
        )
    kind: TriggerKind = kinds[0]  # type: ignore[assignment]  # one of TRIGGER_KINDS
    _known_keys(site, keys, spec, TRIGGER_KEYS[kind])
    if kind == "schedule":
        return _schedule(site, keys, name, spec)
    if kind == "watch":
        return Trigger(name, kind, paths=_paths(site, keys + ["watch"], spec["watch"]))
    if kind == "dataset":
        return Trigger(name, kind, dataset=_text(site, keys + ["dataset"], spec["dataset"]))
    if kind == "command":
        timeout = _duration(site, keys + ["timeout"], spec.get("timeout", 60.0))
        return Trigger(
            name, kind, command=_text(site, keys + ["command"], spec["command"]), timeout=timeout
        )
    return _alert(site, keys, name, spec)


def _schedule(site: SpecSite, keys: Keys, name: str, spec: dict[str, Any]) -> Trigger:
    from croniter import croniter

    cron = _text(site, keys + ["schedule"], spec["schedule"])
    if not croniter.is_valid(cron):
        raise site.error(
            keys + ["schedule"],
            f"{cron!r} is not a cron expression",
            hint="five fields: minute hour day-of-month month day-of-week, e.g. '0 3 * * *'",
        )
    tz = _text(site, keys + ["timezone"], spec.get("timezone", "UTC"))
    try:
        ZoneInfo(tz)
    except (KeyError, ValueError, OSError):
        raise site.error(
            keys + ["timezone"], f"unknown time zone {tz!r}", hint="e.g. UTC, Europe/Paris"
        ) from None
    return Trigger(name, "schedule", cron=cron, timezone=tz)


def _paths(site: SpecSite, keys: Keys, value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    if not items:
        raise site.error(keys, "names no file or folder")
    paths = []
    for i, item in enumerate(items):
        where = keys + [i] if isinstance(value, list) else keys
        path = _text(site, where, item)
        if path.startswith("/") or ".." in path.replace("\\", "/").split("/"):
            raise site.error(where, f"{path!r} must be a path inside the project")
        paths.append(path)
    return tuple(paths)


def _alert(site: SpecSite, keys: Keys, name: str, spec: dict[str, Any]) -> Trigger:
    signal = spec["alert"]
    if signal not in ALERT_SIGNALS:
        raise site.error(
            keys + ["alert"],
            f"unknown alert {signal!r}{did_you_mean(str(signal), ALERT_SIGNALS)}",
            hint=f"known: {', '.join(ALERT_SIGNALS)}",
        )
    metric = spec.get("metric")
    if signal == "quality":
        metric = _text(site, keys + ["metric"], metric if metric is not None else "")
    elif metric is not None:
        raise site.error(keys + ["metric"], "only a quality alert takes a metric")
    threshold = spec.get("threshold")
    if threshold is not None:
        threshold = site.number(keys + ["threshold"], threshold, 0)
    if signal == "quality" and threshold is None:
        raise site.error(keys + ["threshold"], "a quality alert needs a threshold")
    window = _duration(site, keys + ["window"], spec.get("window", "1h"))
    sustained = spec.get("sustained", 0)
    sustained = 0.0 if sustained == 0 else _duration(site, keys + ["sustained"], sustained)
    return Trigger(
        name,
        "alert",
        signal=str(signal),
        metric=metric,
        threshold=threshold,
        window=window,
        sustained=sustained,
    )


def _cycle(site: SpecSite, keys: Keys, value: Any, known_steps: tuple[str, ...]) -> CycleSpec:
    spec = site.mapping(keys, value)
    _known_keys(site, keys, spec, CYCLE_KEYS)
    steps: tuple[str, ...] = ()
    if "steps" in spec:
        raw = spec["steps"]
        if not isinstance(raw, list) or not raw:
            raise site.error(keys + ["steps"], "must be a non-empty list of step names")
        for i, step in enumerate(raw):
            if known_steps and step not in known_steps:
                raise site.error(
                    keys + ["steps", i],
                    f"unknown step {step!r}{did_you_mean(str(step), known_steps)}",
                    hint=f"steps: {', '.join(known_steps)}",
                )
        steps = tuple(str(s) for s in raw)
    register = None
    if "register" in spec:
        register = _text(site, keys + ["register"], spec["register"])
        if known_steps and register not in known_steps:
            raise site.error(
                keys + ["register"],
                f"unknown step {register!r}{did_you_mean(register, known_steps)}",
                hint=f"steps: {', '.join(known_steps)}",
            )
    promote: tuple[str, ...] = ALIAS_ORDER
    if "promote" in spec:
        raw = spec["promote"]
        if not isinstance(raw, list):
            raise site.error(keys + ["promote"], "must be a list of aliases, e.g. [staging]")
        for i, alias in enumerate(raw):
            if alias not in ALIAS_ORDER:
                raise site.error(
                    keys + ["promote", i],
                    f"unknown alias {alias!r}{did_you_mean(str(alias), ALIAS_ORDER)}",
                    hint=f"in order: {', '.join(ALIAS_ORDER)}",
                )
        order = [ALIAS_ORDER.index(a) for a in raw]
        if order != sorted(set(order)):
            raise site.error(
                keys + ["promote"],
                "aliases must come once each, in the order staging, canary, champion",
            )
        promote = tuple(raw)
    weight = None
    if "canary_weight" in spec:
        weight = site.number(keys + ["canary_weight"], spec["canary_weight"], 0, 100)
    watch = _duration(site, keys + ["watch"], spec.get("watch", 300.0))
    return CycleSpec(
        steps=steps, register=register, promote=promote, canary_weight=weight, watch=watch
    )
