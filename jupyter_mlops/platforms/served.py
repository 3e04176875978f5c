"""What a deployment serves, read from the registry: the champion, the canary and its weight, and
where a cluster finds each version's files.

A cluster cannot read ``models:/NAME@champion``: KServe's storage initializer downloads from an
object store (``s3://``, ``gs://``, ``pvc://``, ``https://``...). A version whose files already
live there is used as it is. A version in the team server's proxied store (``mlflow-artifacts:``)
or the embedded one (a folder on this machine) needs ``artifact_root``: the object-store URI that
holds the same tree (the server's ``--artifacts-destination``), and its path is mapped onto it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from ..errors import InvalidInput, NotFound
from ..release.registration import resolve
from ..release.rollout import state
from ..store.gateway import Gateway

# URI schemes KServe's storage initializer downloads from (its storage.py)
CLUSTER_SCHEMES = ("s3", "gs", "pvc", "https", "http", "hdfs", "webhdfs", "hf", "oci")
PROXIED_SCHEME = "mlflow-artifacts"


@dataclass(frozen=True)
class ServedVersion:
    version: str
    alias: str  # champion | canary
    storage_uri: str  # where a cluster downloads the version's MLflow model folder
    run_id: str | None = None


@dataclass(frozen=True)
class ServedModel:
    """The model's rollout as the registry has it now."""

    model: str
    champion: ServedVersion
    canary: ServedVersion | None = None
    canary_weight: float = 0.0  # percent of requests for the canary

    @property
    def versions(self) -> dict[str, str]:
        """version -> alias, for whoever labels predictions with the alias that made them."""
        out = {self.champion.version: "champion"}
        if self.canary is not None:
            out[self.canary.version] = "canary"
        return out


def storage_uri(gw: Gateway, source: str, artifact_root: str | None) -> str:
    """The cluster-readable URI of a version's files (see the module docstring)."""
    parsed = urlparse(source)
    if parsed.scheme in CLUSTER_SCHEMES and not artifact_root:
        return source
    relative = _store_relative(gw, source, parsed.scheme)
    if relative is None:
        if parsed.scheme in CLUSTER_SCHEMES:
            return source
        raise InvalidInput(f"model source {source!r} is not in this workspace's store")
    if not artifact_root:
        where = "this machine" if parsed.scheme in ("", "file") else "the tracking server's proxy"
        raise InvalidInput(
            f"the model files are reachable only through {where} ({source}), not from a cluster",
            hint="pass --artifact-root with the object-store URI behind the store "
            "(e.g. s3://bucket/mlartifacts, the server's --artifacts-destination)",
        )
    root = artifact_root.rstrip("/")
    if urlparse(root).scheme not in CLUSTER_SCHEMES:
        raise InvalidInput(
            f"--artifact-root {artifact_root!r} is not a URI a cluster downloads from",
            hint=f"one of the schemes {', '.join(CLUSTER_SCHEMES)}",
        )
    return f"{root}/{relative}"


def _store_relative(gw: Gateway, source: str, scheme: str) -> str | None:
    """The path of ``source`` inside the store's artifact tree, or None when it is outside."""
    if scheme == PROXIED_SCHEME:
        return re.sub(r"^mlflow-artifacts:(//[^/]*)?/*", "", source) or None
    if scheme in ("", "file") and gw.ws.is_embedded:
        path = Path(unquote(urlparse(source).path)).resolve()
        store = gw.ws.artifacts_dir.resolve()
        return path.relative_to(store).as_posix() if path.is_relative_to(store) else None
    return None


def served_model(
    gw: Gateway, model: str, artifact_root: str | None = None, *, cluster_uris: bool = True
) -> ServedModel:
    """The champion, canary and weight of ``model``, with the URIs a cluster reads them from
    (``cluster_uris=False``: the store's own, for a target that reads through the server)."""
    rollout = state(gw, model)
    if "champion" not in rollout.aliases:
        raise NotFound(
            f"model {model!r} has no champion to deploy",
            hint=f"promote a version first: jupyter-mlops promote {model} VERSION --to champion",
        )
    versions = {}
    for alias in ("champion", "canary"):
        if alias in rollout.aliases:
            mv = resolve(gw, f"{model}@{alias}")
            source = mv.source or ""
            uri = storage_uri(gw, source, artifact_root) if cluster_uris else source
            versions[alias] = ServedVersion(str(mv.version), alias, uri, mv.run_id)
    canary = versions.get("canary")
    # the weight `promote` set on the registry (release.rollout.canary_weight unless told)
    weight = rollout.canary_weight if canary is not None else 0.0
    return ServedModel(model, versions["champion"], canary, weight)
