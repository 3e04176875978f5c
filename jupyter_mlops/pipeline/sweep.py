"""Sweeps: which parameters the next trial gets (grid, random, Optuna), and which trial is best.

A sweep is asked for trials as worker slots free up, so Optuna's sampler sees finished trials
before proposing new ones, and told each trial's metric. ``early_stopping.patience`` ends a sweep
after that many finished trials without improvement; ``pruner: median`` stops a running trial
whose reported intermediate values (``log_step_metrics(..., step=N)``) fall below the median of
earlier trials at the same step.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .spec import SweepSpec


def sweep_budget(spec: SweepSpec) -> int:
    """How many trials a sweep runs at most (known before it starts)."""
    if spec.method == "grid":
        total = math.prod(len(v) for v in spec.parameters.values())
        return min(total, spec.trials or total)
    return int(spec.trials or 1)


def planned_executions(step: Any) -> int:
    """Notebook runs a step needs: one, or a sweep's budget plus the refit of its outputs."""
    if step.sweep is None:
        return 1
    return sweep_budget(step.sweep) + (1 if step.outputs else 0)


@dataclass
class Trial:
    number: int
    params: dict[str, Any]
    value: float | None = None
    state: str = "running"  # running | complete | failed | pruned
    handle: Any = None  # optuna trial
    run_id: str | None = None
    record: Any = None  # records.RunHandle of the trial's run
    curve: dict[int, float] = field(default_factory=dict)  # step -> reported metric value


@dataclass
class Sweep:
    spec: SweepSpec
    trials: list[Trial] = field(default_factory=list)
    _grid: Any = None
    _rng: random.Random | None = None
    _study: Any = None
    _stopped: bool = False

    def __post_init__(self) -> None:
        method = self.spec.method
        if method == "grid":
            names = list(self.spec.parameters)
            combos = itertools.product(*(self.spec.parameters[n] for n in names))
            grid: Iterator[dict[str, Any]] = (dict(zip(names, c, strict=True)) for c in combos)
            if self.spec.trials:
                grid = itertools.islice(grid, self.spec.trials)
            self._grid = iter(grid)
        elif method == "random":
            self._rng = random.Random(self.spec.seed)
        elif method == "optuna":
            import optuna

            optuna.logging.set_verbosity(optuna.logging.WARNING)
            sampler = optuna.samplers.TPESampler(seed=self.spec.seed)
            self._study = optuna.create_study(direction=self.spec.direction, sampler=sampler)

    @property
    def budget(self) -> int:
        return sweep_budget(self.spec)

    def _sample(self, space: Any) -> Any:
        assert self._rng is not None
        if isinstance(space, list):
            return self._rng.choice(space)
        low, high = space["low"], space["high"]
        if space.get("type") == "int" or (
            isinstance(low, int) and isinstance(high, int) and space.get("type") != "float"
        ):
            return self._rng.randint(int(low), int(high))
        if space.get("log"):
            return math.exp(self._rng.uniform(math.log(low), math.log(high)))
        return self._rng.uniform(low, high)

    def _suggest(self, handle: Any, name: str, space: Any) -> Any:
        if isinstance(space, list):
            return handle.suggest_categorical(name, space)
        low, high = space["low"], space["high"]
        is_int = space.get("type") == "int" or (
            isinstance(low, int) and isinstance(high, int) and space.get("type") != "float"
        )
        if is_int:
            return handle.suggest_int(name, int(low), int(high), log=bool(space.get("log")))
        return handle.suggest_float(
            name, float(low), float(high), log=bool(space.get("log")), step=space.get("step")
        )

    def next_trial(self) -> Trial | None:
        """The next trial to run, or None when the budget is spent or the sweep stopped early."""
        if self._stopped or len(self.trials) >= self.budget:
            return None
        number = len(self.trials)
        handle = None
        if self._grid is not None:
            params = next(self._grid, None)
            if params is None:
                return None
        elif self._rng is not None:
            params = {n: self._sample(s) for n, s in self.spec.parameters.items()}
        else:
            handle = self._study.ask()
            params = {n: self._suggest(handle, n, s) for n, s in self.spec.parameters.items()}
        trial = Trial(number, params, handle=handle)
        self.trials.append(trial)
        return trial

    def tell(self, trial: Trial, value: float | None, *, pruned: bool = False) -> None:
        ok = value is not None and math.isfinite(value)
        trial.value = value if ok else None
        trial.state = "pruned" if pruned else ("complete" if ok else "failed")
        if self._study is not None:
            import optuna

            state = {
                "complete": optuna.trial.TrialState.COMPLETE,
                "pruned": optuna.trial.TrialState.PRUNED,
                "failed": optuna.trial.TrialState.FAIL,
            }[trial.state]
            self._study.tell(
                trial.handle, trial.value if state.name == "COMPLETE" else None, state=state
            )
        self._check_patience()

    def _better(self, a: float, b: float) -> bool:
        return a > b if self.spec.direction == "maximize" else a < b

    def _check_patience(self) -> None:
        patience = self.spec.early_stopping.get("patience")
        if not patience:
            return
        done = [t for t in self.trials if t.state != "running"]
        if len(done) < max(patience, self.spec.early_stopping.get("min_trials", 1)):
            return
        best_at, best = None, None
        for i, t in enumerate(done):
            if t.value is not None and (best is None or self._better(t.value, best)):
                best_at, best = i, t.value
        if best_at is None or len(done) - 1 - best_at >= patience:
            self._stopped = True

    def should_prune(self, trial: Trial, history: list[dict[str, Any]]) -> bool:
        """Median rule over the values reported at the same step by finished trials."""
        rule = self.spec.early_stopping
        if rule.get("pruner") != "median":
            return False
        points = [
            h for h in history if h.get("key") == self.spec.metric and h.get("step") is not None
        ]
        if not points:
            return False
        step, value = int(points[-1]["step"]), float(points[-1]["value"])
        if step < int(rule.get("warmup_steps", 0)):
            return False
        peers = sorted(
            t.curve[step] for t in self.trials if t.state == "complete" and step in t.curve
        )
        if len(peers) < int(rule.get("min_trials", 2)):
            return False
        median = peers[len(peers) // 2]
        return value < median if self.spec.direction == "maximize" else value > median

    def best(self) -> Trial | None:
        done = [t for t in self.trials if t.value is not None]
        if not done:
            return None
        pick = max if self.spec.direction == "maximize" else min
        return pick(done, key=lambda t: t.value or 0.0)  # every value in ``done`` is set
