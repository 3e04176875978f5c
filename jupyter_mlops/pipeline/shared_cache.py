"""The build cache shared through the team's tracking server.

On a team server (any store but the embedded one) a finished step's run carries, besides its
``mlops.cache_key`` tag, the cache entry (``mlops-cache/entry.json``: outputs with their digests,
metrics, the parameters a sweep chose) and its outputs (``mlops-cache/outputs/<path>``), journaled
before the run is marked FINISHED. A teammate's clone whose step has the same key and no local
entry finds that run, downloads the outputs into its own ``.mlops/cache/objects`` (each verified
against its digest), and adopts the entry: the step is a cache hit that links the original run,
and nothing executes. An unreachable server, a damaged download or a run without the entry is a
miss, never an error: the step then simply runs. An entry published while the server was down
names its run only by journal key; the run carrying that key (``mlops.run_key``) is its run.
"""

from __future__ import annotations

import json
import logging
import posixpath
import shutil
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..store import server_rest
from ..tags import CACHE_KEY_TAG, RUN_KEY_TAG
from ..workspace import Workspace
from .cache import CacheIndex, canonical_json
from .files import DigestMismatch

if TYPE_CHECKING:
    from ..store.gateway import Gateway

ENTRY_ARTIFACT = "mlops-cache/entry.json"
OUTPUTS_DIR = "mlops-cache/outputs"
PROBE_TIMEOUT = 3.0
CANDIDATES = 5

log = logging.getLogger(__name__)


def is_shared(ws: Workspace) -> bool:
    """Whether builds in ``ws`` publish to, and look up in, a shared store."""
    return not ws.is_embedded


def publish(run: Any, entry: dict[str, Any], root: Path) -> None:
    """Journal the step's outputs and its cache entry on its run (call before the run ends)."""
    for rel in sorted(entry.get("outputs", {})):
        folder = posixpath.dirname(rel)
        run.log_artifact(root / rel, posixpath.join(OUTPUTS_DIR, folder) if folder else OUTPUTS_DIR)
    run.log_text(canonical_json(entry).decode(), ENTRY_ARTIFACT)


def _reachable(uri: str) -> bool:
    """A quick probe, so that a server that is down costs seconds, not MLflow's retries."""
    if not uri.startswith(("http://", "https://")):
        return True
    try:
        with urllib.request.urlopen(uri.rstrip("/") + "/health", timeout=PROBE_TIMEOUT):
            return True
    except urllib.error.HTTPError:
        return True  # it answers (an auth app may guard /health)
    except (OSError, ValueError):
        return False


class SharedCache:
    """Cache entries that anyone on the same server has built, adopted into the local index."""

    def __init__(self, gw: Gateway, cache: CacheIndex, experiment: str | None) -> None:
        self.gw, self.ws, self.cache = gw, gw.ws, cache
        self.experiment = experiment or gw.ws.default_experiment
        self.available: bool | None = None
        self.note: str | None = None

    def fetch(self, key: str) -> dict[str, Any] | None:
        """The entry for ``key`` from a FINISHED run on the server (outputs now local), or None."""
        if self.available is None:
            self.available = _reachable(self.ws.tracking_uri)
            if not self.available:
                self.note = f"tracking server {self.ws.tracking_uri} unreachable: no shared cache"
                log.warning(self.note)
        if not self.available:
            return None
        try:
            return self._fetch(key)
        except Exception as exc:  # the shared cache only ever saves work; a miss is always safe
            self.note = f"shared cache lookup failed: {type(exc).__name__}: {exc}"[:300]
            log.warning(self.note)
            return None

    def _fetch(self, key: str) -> dict[str, Any] | None:
        flt = f"tags.`{CACHE_KEY_TAG}` = '{key}' AND attributes.status = 'FINISHED'"
        order = ["attributes.end_time DESC"]
        uri = self.gw.rest_base()
        if uri is not None:  # no MLflow import for a fully cached build
            exp_id = server_rest.experiment_id(uri, self.experiment)
            if exp_id is None:
                return None
            found = server_rest.search_runs(uri, exp_id, flt, order, CANDIDATES)
            runs = [
                (
                    r["info"]["run_id"],
                    r["info"].get("artifact_uri", ""),
                    {t["key"]: t.get("value") for t in r.get("data", {}).get("tags", [])},
                )
                for r in found
            ]
        else:
            exp_id = self.gw.experiment_id(self.experiment, create=False)
            if exp_id is None:
                return None
            found_runs = self.gw.client.search_runs(
                [exp_id], flt, order_by=order, max_results=CANDIDATES
            )
            runs = [(r.info.run_id, r.info.artifact_uri, r.data.tags) for r in found_runs]
        for run_id, artifact_uri, tags in runs:
            entry = self._adopt(run_id, artifact_uri, key, tags.get(RUN_KEY_TAG))
            if entry is not None:
                return entry
        return None

    def _download(self, run_id: str, artifact_uri: str, path: str, folder: Path) -> Path:
        uri = self.gw.rest_base()
        if uri is not None and artifact_uri.startswith(server_rest.PROXIED):
            return server_rest.download(uri, artifact_uri, path, folder / path)

        return Path(self.gw.client.download_artifacts(run_id, path, str(folder)))

    def _adopt(
        self, run_id: str, artifact_uri: str, key: str, run_key: str | None
    ) -> dict[str, Any] | None:
        scratch = Path(tempfile.mkdtemp(prefix="shared-cache-", dir=self.ws.subdir("tmp")))
        try:
            try:
                got = self._download(run_id, artifact_uri, ENTRY_ARTIFACT, scratch)
                entry: dict[str, Any] = json.loads(got.read_text())
            except Exception:
                return None  # a step run of an older version, or one whose upload never landed
            if not entry.get("run_id") and run_key and entry.get("run_key") == run_key:
                entry["run_id"] = run_id  # published while the server was down: its run now
            if entry.get("key") != key or entry.get("run_id") != run_id:
                return None
            for rel, digest in sorted(entry.get("outputs", {}).items()):
                if self.cache.has_object(digest):
                    continue
                path = posixpath.join(OUTPUTS_DIR, rel)
                got = self._download(run_id, artifact_uri, path, scratch)
                try:
                    self.cache.add_object(got, digest)
                except DigestMismatch:
                    log.warning("shared cache: %s of run %s fails its digest", rel, run_id)
                    return None
            self.cache.adopt(entry)
            return entry
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
