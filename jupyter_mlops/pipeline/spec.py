"""mlops.yaml as a validated pipeline: steps, their parameters, needs, files and sweeps.

The file is checked against ``mlops.schema.json`` (shipped with the package, see ``config``) and then for what a
schema cannot say (unknown needs, cycles, paths leaving the project). Every error names the file,
the key path and the line. A validated spec is cached in ``.mlops/cache/spec.json`` under the
digest of the file's bytes, so an unchanged rebuild neither imports YAML nor jsonschema.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Literal

import xxhash

from ..config import check_top_level_keys, compose_yaml, config_schema, did_you_mean, key_line
from ..errors import ConfigError
from ..settings import Settings, environment_settings
from ..workspace import Workspace
from .files import write_atomic
from .graph import find_cycle
from .params import is_identifier, literal_problem

SPEC_CACHE_VERSION = "1"


@dataclass(frozen=True)
class SweepSpec:
    parameters: dict[str, Any]
    metric: str
    method: str = "grid"
    direction: Literal["minimize", "maximize"] = "maximize"
    trials: int | None = None
    seed: int = 0
    early_stopping: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StepSpec:
    name: str
    notebook: str
    parameters: dict[str, Any] = field(default_factory=dict)
    needs: tuple[str, ...] = ()
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    kernel: str | None = None
    timeout: float | None = None
    retries: int = 0
    metric: str | None = None
    sweep: SweepSpec | None = None
    line: int | None = None

    @property
    def key_metric(self) -> str | None:
        return self.metric or (self.sweep.metric if self.sweep else None)


@dataclass(frozen=True)
class PipelineSpec:
    path: str
    project: str
    experiment: str
    steps: dict[str, StepSpec]

    def step(self, name: str) -> StepSpec:
        return self.steps[name]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PipelineSpec:
        steps = {}
        for name, raw in data["steps"].items():
            sweep = SweepSpec(**raw["sweep"]) if raw.get("sweep") else None
            raw = {**raw, "sweep": sweep}
            for key in ("needs", "inputs", "outputs"):
                raw[key] = tuple(raw[key])
            steps[name] = StepSpec(**raw)
        return cls(data["path"], data["project"], data["experiment"], steps)


def _key_path(parts: list[Any]) -> str:
    return ".".join(str(p) for p in parts) or "(top level)"


def _schema_errors(data: Any, node: Any, path: Path) -> None:
    """Raise ConfigError for the first schema violation, pointing at its key and line."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(config_schema())
    # at one place, an unknown key first: it is likely the misspelling of a missing one
    errors = sorted(
        validator.iter_errors(data),
        key=lambda e: (len(e.absolute_path), e.validator != "additionalProperties", e.message),
    )
    if not errors:
        return
    error = errors[0]
    # anyOf failures hide the useful cause in their context: take the deepest one
    while error.context:
        error = max(error.context, key=lambda e: len(e.absolute_path))
    parts = list(error.absolute_path)
    message, hint = error.message, None
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(error.schema.get("properties", {}))
        extra = [k for k in error.instance if k not in allowed]
        if extra:
            parts.append(extra[0])
            known = ", ".join(sorted(allowed))
            where = "top-level key" if len(parts) == 1 else "key"
            message = f"unknown {where} {extra[0]!r}{did_you_mean(extra[0], allowed)}"
            hint = f"allowed: {known}"
    elif "propertyNames" in error.schema_path:
        bad = error.instance
        message = f"{bad!r} is not a valid name (letters, digits and _, not starting with a digit)"
        if isinstance(bad, str):
            parts.append(bad)
    elif error.validator == "required":
        message = error.message
    raise ConfigError(
        message, path=str(path), key=_key_path(parts), line=key_line(node, parts), hint=hint
    )


def _rel_inside(value: str, root: Path) -> bool:
    if os.path.isabs(value) or value.startswith("~"):
        return False
    return ".." not in PurePosixPath(value.replace("\\", "/")).parts


def _semantic_errors(data: dict[str, Any], node: Any, path: Path, root: Path) -> None:
    def fail(message: str, parts: list[Any], hint: str | None = None) -> None:
        raise ConfigError(
            message, path=str(path), key=_key_path(parts), line=key_line(node, parts), hint=hint
        )

    steps = data.get("steps") or {}
    for name, step in steps.items():
        for i, need in enumerate(step.get("needs", [])):
            if need not in steps:
                fail(
                    f"step {name!r} needs unknown step {need!r}",
                    ["steps", name, "needs", i],
                    hint=f"known steps: {', '.join(sorted(steps))}",
                )
            if need == name:
                fail(f"step {name!r} needs itself", ["steps", name, "needs", i])
        for key in ("notebook", "inputs", "datasets", "outputs"):
            values = step.get(key, [])
            for i, value in enumerate([values] if isinstance(values, str) else values):
                if not _rel_inside(value, root):
                    parts = ["steps", name, key] + ([] if isinstance(values, str) else [i])
                    fail(f"{value!r} must be a path inside the project folder", parts)
        for pname, value in (step.get("parameters") or {}).items():
            if not is_identifier(pname):
                fail(f"{pname!r} is not a valid parameter name", ["steps", name, "parameters"])
            problem = literal_problem(value)
            if problem:
                fail(problem, ["steps", name, "parameters", pname])
        sweep = step.get("sweep")
        if sweep:
            method = sweep.get("method", "grid")
            for pname, space in sweep["parameters"].items():
                if isinstance(space, dict):
                    if space["low"] > space["high"]:
                        fail("low is above high", ["steps", name, "sweep", "parameters", pname])
                    if method == "grid":
                        fail(
                            "a grid sweep needs a list of values, not a range",
                            ["steps", name, "sweep", "parameters", pname],
                            hint="use method: random or optuna for ranges",
                        )
            if method != "grid" and not sweep.get("trials"):
                fail(
                    f"a {method} sweep needs a trial budget",
                    ["steps", name, "sweep"],
                    hint="add trials: N",
                )

    cycle = find_cycle({n: list(s.get("needs", [])) for n, s in steps.items()})
    if cycle:
        fail(
            f"steps form a cycle: {' -> '.join(cycle)}",
            ["steps", cycle[0], "needs"],
            hint="remove one of these needs",
        )


def _build_spec(data: dict[str, Any], node: Any, path: Path, ws: Workspace) -> PipelineSpec:
    steps = {}
    for name, raw in (data.get("steps") or {}).items():
        sweep = None
        if raw.get("sweep"):
            s = raw["sweep"]
            sweep = SweepSpec(
                parameters=s["parameters"],
                metric=s["metric"],
                method=s.get("method", "grid"),
                direction=s.get("direction", "maximize"),
                trials=s.get("trials"),
                seed=int(s.get("seed", 0)),
                early_stopping=dict(s.get("early_stopping") or {}),
            )
        steps[name] = StepSpec(
            name=name,
            notebook=raw["notebook"],
            parameters=dict(raw.get("parameters") or {}),
            needs=tuple(raw.get("needs", [])),
            inputs=tuple(raw.get("inputs", [])) + tuple(raw.get("datasets", [])),
            outputs=tuple(raw.get("outputs", [])),
            kernel=raw.get("kernel"),
            timeout=raw.get("timeout"),
            retries=int(raw.get("retries", 0)),
            metric=raw.get("metric"),
            sweep=sweep,
            line=key_line(node, ["steps", name]),
        )
    project = str(data.get("project") or ws.root.name or "project")
    experiment = Settings(data, path).experiment or project
    return PipelineSpec(str(path), project, experiment, steps)


def parse_spec(path: Path, ws: Workspace) -> PipelineSpec:
    """Load and fully validate ``path`` (no cache)."""
    data, node = compose_yaml(path)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError("the top level must be a mapping", path=str(path), line=1)
    check_top_level_keys(data, node, path)
    _schema_errors(data, node, path)
    _semantic_errors(data, node, path, ws.root)
    return _build_spec(data, node, path, ws)


def load_spec(ws: Workspace) -> PipelineSpec:
    """The workspace's pipeline, from the spec cache when mlops.yaml's bytes are unchanged."""
    path = ws.config_path
    if not path.is_file():
        raise ConfigError(
            "no mlops.yaml in the project folder",
            path=str(path),
            hint="create one with a `steps:` section (see example_notebooks/mlops.yaml)",
        )

    raw = path.read_bytes()
    digest = xxhash.xxh3_128_hexdigest(raw + SPEC_CACHE_VERSION.encode())
    experiment_override = environment_settings().experiment or ""
    cache = ws.state_dir / "cache" / "spec.json"
    try:
        cached = json.loads(cache.read_text())
        if cached["digest"] == digest and cached["experiment_env"] == experiment_override:
            spec = PipelineSpec.from_dict(cached["spec"])
            if spec.path == str(path):
                return spec
    except (OSError, ValueError, KeyError, TypeError):
        pass
    spec = parse_spec(path, ws)

    payload = {"digest": digest, "experiment_env": experiment_override, "spec": spec.to_dict()}
    write_atomic(ws.subdir("cache") / "spec.json", json.dumps(payload).encode())
    return spec
