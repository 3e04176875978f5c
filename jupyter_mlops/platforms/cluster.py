"""What every manifest shares: Kubernetes names, labels, the Secret the tracking server's address
and credentials come from, and resource requests.

Credentials never appear in a manifest: containers read ``MLFLOW_TRACKING_URI``,
``MLFLOW_TRACKING_USERNAME`` / ``MLFLOW_TRACKING_PASSWORD`` (or ``MLFLOW_TRACKING_TOKEN``) from a
Secret the cluster's operator creates once::

    kubectl create secret generic mlops-tracking \\
        --from-literal=MLFLOW_TRACKING_URI=https://mlflow.example.com \\
        --from-literal=MLFLOW_TRACKING_USERNAME=ci --from-literal=MLFLOW_TRACKING_PASSWORD=...
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .._version import __version__
from ..errors import InvalidInput

DEFAULT_SECRET = "mlops-tracking"
TRACKING_KEYS = ("MLFLOW_TRACKING_URI",)  # the Secret must hold these
CREDENTIAL_KEYS = ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_TOKEN")
_QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(m|k|Ki|Mi|Gi|Ti|M|G|T)?$")


def k8s_name(text: str, *, limit: int = 63) -> str:
    """``text`` as a DNS-1123 label: lower case, ``[a-z0-9-]``, starting with a letter."""
    name = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")
    name = re.sub(r"-{2,}", "-", name)
    if not name or not name[0].isalpha():
        name = f"m-{name}".rstrip("-")
    return name[:limit].rstrip("-")


def check_secret_name(name: str) -> str:
    if not re.fullmatch(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?", name or ""):
        raise InvalidInput(
            f"--secret {name!r} is not a Kubernetes Secret name",
            hint="lower-case letters, digits, '-' and '.'",
        )
    return name


def labels(model: str, component: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": k8s_name(model),
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/managed-by": "jupyter-mlops",
        "app.kubernetes.io/version": re.sub(r"[^A-Za-z0-9._-]", "-", __version__)[:63],
    }


def secret_env_from(secret: str) -> list[dict[str, Any]]:
    """Every key of the Secret as an environment variable (the tracking URI and credentials)."""
    return [{"secretRef": {"name": check_secret_name(secret)}}]


@dataclass(frozen=True)
class Resources:
    cpu: str = "500m"
    memory: str = "1Gi"
    memory_limit: str | None = "2Gi"

    def __post_init__(self) -> None:
        for what, value in (("cpu", self.cpu), ("memory", self.memory)):
            if not _QUANTITY.match(str(value)):
                raise InvalidInput(
                    f"--{what} {value!r} is not a Kubernetes quantity", hint="e.g. 500m, 1, 2Gi"
                )

    def spec(self) -> dict[str, Any]:
        out: dict[str, Any] = {"requests": {"cpu": self.cpu, "memory": self.memory}}
        if self.memory_limit:
            out["limits"] = {"memory": self.memory_limit}
        return out
