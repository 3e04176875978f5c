"""What differs between two recorded environments: interpreter, platform, hardware, packages.

Reads each run's ``mlops/environment.json`` (the lock the tracker records: every installed
distribution with its exact version, kernel spec and hardware, plus a hash).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import NotFound
from ..store.run_details import read_json_artifact
from ..store.runs import get_run

if TYPE_CHECKING:
    from ..store.gateway import Gateway

SYSTEM_KEYS = ("python", "implementation", "platform", "machine", "cpu_count", "memory_bytes")


@dataclass
class EnvDiff:
    a: str
    b: str
    same_hash: bool
    system: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    changed: dict[str, tuple[str, str]] = field(default_factory=dict)
    added: dict[str, str] = field(default_factory=dict)  # only in b
    removed: dict[str, str] = field(default_factory=dict)  # only in a
    kernel: dict[str, tuple[Any, Any]] = field(default_factory=dict)

    @property
    def packages_differ(self) -> bool:
        return bool(self.changed or self.added or self.removed)

    @property
    def results_may_differ(self) -> bool:
        """Interpreter or packages changed (hardware and kernel labels alone do not count)."""
        return self.packages_differ or any(k in self.system for k in ("python", "implementation"))

    def package_summary(self, limit: int = 8) -> str:
        items = [f"{n} {a} -> {b}" for n, (a, b) in sorted(self.changed.items())]
        items += [f"+{n} {v}" for n, v in sorted(self.added.items())]
        items += [f"-{n} {v}" for n, v in sorted(self.removed.items())]
        more = f" (+{len(items) - limit} more)" if len(items) > limit else ""
        return ", ".join(items[:limit]) + more


def diff_environments(a: dict[str, Any], b: dict[str, Any], names: tuple[str, str]) -> EnvDiff:
    da, db = a.get("distributions") or {}, b.get("distributions") or {}
    diff = EnvDiff(names[0], names[1], bool(a.get("hash")) and a.get("hash") == b.get("hash"))
    for key in SYSTEM_KEYS:
        if a.get(key) != b.get(key):
            diff.system[key] = (a.get(key), b.get(key))
    ka, kb = a.get("kernel") or {}, b.get("kernel") or {}
    for key in sorted(set(ka) | set(kb)):
        if ka.get(key) != kb.get(key):
            diff.kernel[key] = (ka.get(key), kb.get(key))
    for name in sorted(set(da) | set(db)):
        if name not in db:
            diff.removed[name] = da[name]
        elif name not in da:
            diff.added[name] = db[name]
        elif da[name] != db[name]:
            diff.changed[name] = (da[name], db[name])
    return diff


def environment_of(gw: Gateway, run_id: str) -> dict[str, Any] | None:
    env = read_json_artifact(gw, run_id, "mlops/environment.json")
    return env if isinstance(env, dict) else None


def env_diff_runs(gw: Gateway, run_a: str, run_b: str) -> EnvDiff:
    """``%mlops env diff A B``: the two runs' recorded environments, compared."""

    envs, names = [], []
    for ref in (run_a, run_b):
        run = get_run(gw, ref)
        env = environment_of(gw, run.info.run_id)
        if env is None:
            raise NotFound(
                f"run {ref} recorded no environment",
                hint="runs tracked with %%mlops track record mlops/environment.json",
            )
        envs.append(env)
        names.append(run.info.run_name or run.info.run_id[:8])
    return diff_environments(envs[0], envs[1], (names[0], names[1]))
