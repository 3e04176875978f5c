"""Deciding, without MLflow, whether a step is a cache hit, and what it gets from the steps it needs.

A step that needs a swept step receives the best trial's parameters, and a step that needs
``train`` receives ``train_run_id`` (the run holding its model: the best trial for a sweep), but
only for names its own ``parameters`` cell declares, so a notebook's inputs stay explicit. A step
built while ``train``'s run was only journaled (server down) gets no ``train_run_id``; its run's
tag ``mlops.upstream.train`` names the run once both landed.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError
from .cache import CacheIndex, StepKey, compute_key, explain_change
from .shared_cache import SharedCache, is_shared
from .spec import PipelineSpec, StepSpec

if TYPE_CHECKING:
    from ..store.gateway import Gateway


@dataclass
class StepPlan:
    step: StepSpec
    action: str  # cached | run | blocked
    reason: str
    key: StepKey | None = None
    entry: dict[str, Any] | None = None
    parameters: dict[str, Any] = field(default_factory=dict)


def declared_parameters(notebook: Path) -> set[str]:
    """Names assigned in the notebook's cell tagged ``parameters`` (papermill's convention)."""
    nb = json.loads(notebook.read_bytes())
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code" or "parameters" not in cell.get("metadata", {}).get(
            "tags", []
        ):
            continue
        source = cell.get("source", "")
        source = source if isinstance(source, str) else "".join(source)
        try:
            tree = ast.parse(source)
        except SyntaxError:
            return set()
        names: set[str] = set()
        for node in tree.body:
            targets = (
                node.targets
                if isinstance(node, ast.Assign)
                else ([node.target] if isinstance(node, ast.AnnAssign) else [])
            )
            names.update(t.id for t in targets if isinstance(t, ast.Name))
        return names
    return set()


def _handed_run_ids(step: StepSpec) -> set[str]:
    """``<need>_run_id`` parameters the build hands on (not the ones mlops.yaml sets). They stay
    out of the cache key, which has the needed steps' keys already: which run recorded an
    upstream result (none yet, while the server was down) does not change this step's result."""
    return {f"{n}_run_id" for n in step.needs} - set(step.parameters)


class Planner:
    def __init__(
        self,
        gw: Gateway,
        spec: PipelineSpec,
        cache: CacheIndex,
        env_hash: str,
        force: bool = False,
    ) -> None:
        self.ws, self.spec, self.cache, self.env_hash, self.force = (
            gw.ws,
            spec,
            cache,
            env_hash,
            force,
        )
        self._declared: dict[str, set[str]] = {}
        self.shared = SharedCache(gw, cache, spec.experiment) if is_shared(gw.ws) else None
        self._entries: dict[str, dict[str, Any]] = {}  # cache entries of steps seen so far

    def check_step(self, step: StepSpec) -> None:
        """Missing notebooks and kernels, named with the step and its line in mlops.yaml."""
        if not (self.ws.root / step.notebook).is_file():
            raise ConfigError(
                f"step {step.name!r}: notebook {step.notebook!r} does not exist",
                path=self.spec.path,
                key=f"steps.{step.name}.notebook",
                line=step.line,
            )

    def check_kernel(self, step: StepSpec) -> None:
        if not step.kernel:
            return
        from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

        try:
            KernelSpecManager().get_kernel_spec(step.kernel)
        except NoSuchKernel:
            raise ConfigError(
                f"step {step.name!r}: no Jupyter kernel named {step.kernel!r}",
                path=self.spec.path,
                key=f"steps.{step.name}.kernel",
                line=step.line,
                hint="list kernels with `jupyter kernelspec list`",
            ) from None

    def parameters_for(self, step: StepSpec, upstream: dict[str, dict[str, Any]]) -> dict[str, Any]:
        if step.name not in self._declared:
            self._declared[step.name] = declared_parameters(self.ws.root / step.notebook)
        declared = self._declared[step.name]
        handed: dict[str, Any] = {}
        for need in step.needs:
            entry = upstream.get(need) or {}
            handed.update(entry.get("best_params") or {})
            handed[f"{need}_run_id"] = entry.get("best_run_id") or entry.get("run_id")
        params = {k: v for k, v in handed.items() if k in declared and v is not None}
        params.update(step.parameters)
        return params

    def _produced_upstream(self, step: StepSpec) -> dict[str, str]:
        """Recorded output digests of every step ``step`` needs, directly or not."""
        produced: dict[str, str] = {}
        todo, seen = list(step.needs), set()
        while todo:
            name = todo.pop()
            if name in seen or name not in self.spec.steps:
                continue
            seen.add(name)
            produced.update((self._entries.get(name) or {}).get("outputs") or {})
            todo.extend(self.spec.steps[name].needs)
        return produced

    def evaluate(self, step: StepSpec, upstream: dict[str, dict[str, Any]]) -> StepPlan:
        """Key and decision for a step whose needed steps all have cache entries."""
        params = self.parameters_for(step, upstream)
        needed = {n: upstream[n]["key"] for n in step.needs}
        self._entries.update({n: e for n, e in upstream.items() if e})
        produced = self._produced_upstream(step)
        keyed = {k: v for k, v in params.items() if k not in _handed_run_ids(step)}
        key = compute_key(
            step, self.ws.root, keyed, needed, self.env_hash, self.cache.memo, produced
        )
        if self.force:
            return StepPlan(step, "run", "forced", key, None, params)
        entry = self.cache.lookup(key.key)
        if entry is None and self.shared is not None:  # built by anyone on the team server?
            entry = self.shared.fetch(key.key)
        if entry is None:
            reason = explain_change(self.cache.last_components(step.name), key.components)
            return StepPlan(step, "run", reason, key, None, params)
        missing = self.cache.outputs_restorable(entry)
        if missing:
            return StepPlan(step, "run", missing, key, None, params)
        return StepPlan(step, "cached", "unchanged", key, entry, params)

    def plan_all(self, order: list[str]) -> list[StepPlan]:
        """The decision for every step, as far as it can be known before running anything."""
        plans: dict[str, StepPlan] = {}
        for name in order:
            step = self.spec.steps[name]
            self.check_step(step)
            blocked = [n for n in step.needs if n in plans and plans[n].action != "cached"]
            if blocked:
                plans[name] = StepPlan(step, "blocked", f"needed step {blocked[0]} will run")
                continue
            upstream = {n: plans[n].entry or {} for n in step.needs if n in plans}
            for need in step.needs:  # needs outside the selection: their last cached result
                if need not in upstream:
                    upstream[need] = self._latest_entry(need) or {}
            if any(not upstream[n] for n in step.needs):
                plans[name] = StepPlan(step, "blocked", "a needed step was never built")
                continue
            plans[name] = self.evaluate(step, upstream)
        return [plans[n] for n in order]

    def _latest_entry(self, step: str) -> dict[str, Any] | None:
        try:
            key = json.loads((self.cache.dir / "last" / f"{step}.json").read_text())["key"]
        except (OSError, ValueError, KeyError):
            return None
        return self.cache.lookup(key)
