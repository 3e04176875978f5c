"""What a release gate is: a name, a check of its settings, and a run that returns verdicts.

Gates are found through a registry (``gates.registry``), as papermill finds its engines, so a
team can add its own gate from another package through the ``jupyter_mlops.gates`` entry-point
group without touching this one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from .evaluation import EvaluationData
from .result import GateResult
from .spec_check import Keys, SpecSite

if TYPE_CHECKING:
    from ...store.gateway import Gateway
    from ...workspace import Workspace


@dataclass
class GateContext:
    """Everything the gates of one validation share: loaded once, read by each gate."""

    gw: Gateway
    model: str
    version: str
    policy: Any  # ReleasePolicy
    candidate: Any  # the candidate's pyfunc model
    folder: Path  # the candidate's files
    work: Path  # this validation's scratch folder (charts, the business notebook)
    data: EvaluationData | None = None
    y_pred: Any = None
    metrics: dict[str, float] = field(default_factory=dict)  # the candidate's, on `data`
    champion_version: str | None = None
    champion_model: Any = None
    champion_metrics: dict[str, float] | None = None
    artifacts: dict[str, str] = field(default_factory=dict)  # name -> file, kept with the run

    @property
    def ws(self) -> Workspace:
        """The project (its folder, its mlops.yaml) the validation runs in."""
        return self.gw.ws


@runtime_checkable
class Gate(Protocol):
    """A release gate. ``kind`` is technical, business or responsible (how the card groups it)."""

    name: str
    kind: str
    needs_evaluation: bool  # the policy must declare evaluation data when this gate is used

    def check_config(self, site: SpecSite, keys: Keys, spec: Any) -> Any:
        """The gate's settings, validated and with defaults filled in; a ConfigError if wrong."""
        ...

    def metrics_needed(self, spec: Any) -> set[str]:
        """Metrics the candidate (and champion) must be scored on before any gate runs."""
        ...

    def run(self, ctx: GateContext, spec: Any) -> list[GateResult]:
        """Judge the candidate: one result per thing checked."""
        ...
