"""The ``release:`` section of mlops.yaml: what a model must pass before it may serve.

Example::

    release:
      model: churn
      intended_use: Rank customers by churn risk for the retention team; not for pricing.
      evaluation: {path: data/eval.csv, target: label}      # or {dataset: NAME[@VERSION], target: ...}
      gates:
        metrics: {accuracy: {min: 0.8}}
        champion: {metric: accuracy, min_delta: -0.01}      # or min_relative: -0.02
        signature: true
        latency: {p95_ms: 50, n: 200}
        size: {max_mb: 50}
        business: {notebook: gate_business.ipynb, parameters: {min_saving: 1000}}
        fairness: {sensitive: group, metric: accuracy, max_disparity: 0.1}   # bins: N for numbers
        importance: {top: 5, forbid: [customer_id]}
      rollout: {canary_weight: 10}
      approvals:                      # an alias that moves only with a named approval
        champion: {approvers: [alice, bob], not_self: true}   # not_self: not the registrant

Errors name the file, the key path and its line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..config import compose_yaml, did_you_mean
from ..errors import MlopsError
from ..workspace import Workspace
from .gates.registry import release_gates
from .gates.spec_check import Keys, SpecSite
from .registered_model import check_name

SECTION_KEYS = (
    "model",
    "intended_use",
    "limitations",
    "evaluation",
    "gates",
    "rollout",
    "signing",
    "approvals",
)
PROTECTABLE = ("staging", "canary", "champion")
APPROVAL_KEYS = ("approvers", "not_self")


@dataclass(frozen=True)
class ApprovalRule:
    """``release.approvals.<alias>``: who may approve a version for ``alias`` (anyone when
    ``approvers`` is empty), and whether the one who registered it may (``not_self``)."""

    alias: str
    approvers: tuple[str, ...] = ()
    not_self: bool = False


@dataclass
class ReleasePolicy:
    model_name: str | None = None
    intended_use: str = ""
    limitations: str = ""
    evaluation: dict[str, Any] = field(default_factory=dict)
    gates: dict[str, Any] = field(default_factory=dict)
    canary_weight: float = 10.0
    approvals: dict[str, ApprovalRule] = field(default_factory=dict)
    source: str = "defaults"

    def approval_rule(self, alias: str) -> ApprovalRule | None:
        """The rule protecting ``alias``, or None when it moves without an approval."""
        return self.approvals.get(alias)


def parse_policy(ws: Workspace, section: Any, node: Any = None) -> ReleasePolicy:
    site = SpecSite(ws, node)
    base: Keys = ["release"]
    section = site.mapping(base, section)
    unknown = sorted(set(section) - set(SECTION_KEYS))
    if unknown:
        raise site.error(
            base + [unknown[0]],
            f"unknown key{did_you_mean(unknown[0], SECTION_KEYS)}",
            hint=f"known: {', '.join(SECTION_KEYS)}",
        )
    pol = ReleasePolicy(source=str(ws.config_path))
    if section.get("model") is not None:
        try:
            pol.model_name = check_name(str(section["model"]))
        except MlopsError as exc:
            raise site.error(base + ["model"], exc.message) from None
    pol.intended_use = str(section.get("intended_use") or "")
    pol.limitations = str(section.get("limitations") or "")
    pol.evaluation = _evaluation(site, base + ["evaluation"], section.get("evaluation"))
    pol.gates = _gates(site, base + ["gates"], section.get("gates"))
    if not pol.evaluation and any(
        gate.needs_evaluation for g in pol.gates if (gate := release_gates.get(g)) is not None
    ):
        raise site.error(base + ["evaluation"], "the gates need an evaluation dataset")
    rollout = site.mapping(base + ["rollout"], section.get("rollout"))
    if "canary_weight" in rollout:
        pol.canary_weight = site.number(
            base + ["rollout", "canary_weight"], rollout["canary_weight"], 0, 100
        )
    pol.approvals = _approvals(site, base + ["approvals"], section.get("approvals"))
    return pol


def _approvals(site: SpecSite, keys: Keys, value: Any) -> dict[str, ApprovalRule]:
    rules = {}
    for alias, spec in site.mapping(keys, value).items():
        where = keys + [alias]
        if alias not in PROTECTABLE:
            raise site.error(
                where,
                f"unknown alias{did_you_mean(str(alias), PROTECTABLE)}",
                hint=f"an approval can protect {', '.join(PROTECTABLE)}",
            )
        spec = site.mapping(where, spec if spec is not True else {})
        unknown = sorted(str(k) for k in set(spec) - set(APPROVAL_KEYS))
        if unknown:
            raise site.error(
                where + [unknown[0]],
                f"unknown key{did_you_mean(unknown[0], APPROVAL_KEYS)}",
                hint=f"known: {', '.join(APPROVAL_KEYS)}",
            )
        approvers = spec.get("approvers", [])
        if isinstance(approvers, str):
            approvers = [approvers]
        if not isinstance(approvers, list) or not all(
            isinstance(a, str) and a.strip() for a in approvers
        ):
            raise site.error(where + ["approvers"], "must be a list of user names")
        not_self = spec.get("not_self", False)
        if not isinstance(not_self, bool):
            raise site.error(where + ["not_self"], f"must be true or false, not {not_self!r}")
        rules[alias] = ApprovalRule(alias, tuple(a.strip() for a in approvers), not_self)
    return rules


def _evaluation(site: SpecSite, keys: Keys, value: Any) -> dict[str, Any]:
    ev = site.mapping(keys, value)
    if ev and not ev.get("path") and not ev.get("dataset"):
        raise site.error(keys, "needs `path` or `dataset`")
    if ev and not ev.get("target"):
        raise site.error(keys, "needs `target` (the label column)")
    return ev


def _gates(site: SpecSite, keys: Keys, value: Any) -> dict[str, Any]:
    """Each declared gate's settings, checked by the gate itself."""
    gates = site.mapping(keys, value)
    for name, spec in gates.items():
        gate = release_gates.get(name)
        if gate is None:
            known = release_gates.names()
            raise site.error(
                keys + [name],
                f"unknown gate{did_you_mean(name, known)}",
                hint=f"known: {', '.join(known)}",
            )
        gates[name] = gate.check_config(site, keys + [name], spec)
    return gates


def load_policy(ws: Workspace) -> ReleasePolicy:
    """The workspace's release policy (defaults when mlops.yaml has no ``release:``)."""
    if not ws.config_path.is_file():
        return ReleasePolicy()
    data, node = compose_yaml(ws.config_path)
    if not isinstance(data, dict) or data.get("release") is None:
        return ReleasePolicy()
    return parse_policy(ws, data["release"], node)
