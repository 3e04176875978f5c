"""Which loaded version answers a request: champion and canary, split by the canary's weight.

A background thread polls the registry (every ``poll_interval`` seconds), loads any version an
alias newly points at *before* publishing it, then swaps one immutable ``RoutingTable`` reference.
A request reads that reference once, so it never sees half an update, and there is no moment
without a loaded model: alias changes need no restart and fail no request. The champion's
``previous`` and the ``staging`` version are kept loaded too, so a rollback, or a promotion of
the staged version to canary or champion, is one poll away (at most ``poll_interval`` + a
registry read) on every replica of a fleet, not a model load away.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..release.rollout import state
from ..release.signing import discard, verify_version
from .payload import ColumnSpec, schema_columns

if TYPE_CHECKING:
    from ..store.gateway import Gateway

log = logging.getLogger(__name__)
KEPT_ALIASES = ("champion", "canary", "previous", "staging")


@dataclass(frozen=True)
class LoadedVersion:
    """One model version ready to score."""

    version: str
    model: Any  # mlflow PyFuncModel
    columns: list[ColumnSpec] | None
    predict_fn: Any
    files: Path | None = None  # a download of its own, removed once the version is unloaded

    def predict(self, frame: Any) -> Any:
        return self.predict_fn(frame)


@dataclass(frozen=True)
class RoutingTable:
    champion: LoadedVersion | None = None
    canary: LoadedVersion | None = None
    weight: float = 0.0  # percent of traffic for the canary
    shadow: bool = False
    loaded: dict[str, LoadedVersion] = field(default_factory=dict)
    generation: int = 0


def load_version(gw: Gateway, model: str, version: str) -> LoadedVersion:
    """Load a registered version, only from the workspace's own store and only once its files
    match their signature (when signing is configured): a changed file raises IntegrityError
    naming it, and the router keeps serving what it had."""
    # sources outside the store raise before anything is unpickled
    checked = verify_version(gw, model, version)
    try:
        loaded = load_path(str(checked.folder), str(version))
    except BaseException:
        discard(checked)
        raise
    return replace(loaded, files=checked.fetched_into)


def _discard(versions: Iterable[LoadedVersion]) -> None:
    """Remove the downloaded files of versions no table serves any more (a request still on an
    older table holds the model in memory, not its files)."""
    for loaded in versions:
        if loaded.files is not None:
            shutil.rmtree(loaded.files, ignore_errors=True)


def load_path(path: str, version: str) -> LoadedVersion:
    """Load an MLflow model folder (already checked, or a package's own) as ``version``."""
    import mlflow.pyfunc

    pyfunc = mlflow.pyfunc.load_model(path)
    columns = schema_columns(pyfunc)
    predict_fn = pyfunc.predict
    # our own validation already enforced the column schema; skip MLflow's second pass
    if (
        columns is not None
        and not pyfunc.metadata._is_signature_from_type_hint()
        and pyfunc.metadata.get_params_schema() is None
    ):
        predict_fn = pyfunc._predict_fn
    return LoadedVersion(version, pyfunc, columns, predict_fn)


class ModelRouter:
    """Keeps the routing table of one registered model current and picks a version per request."""

    def __init__(
        self,
        gw: Gateway,
        model: str,
        *,
        poll_interval: float = 0.5,
        sticky_header: str | None = "x-request-key",
    ) -> None:
        self.gw, self.model = gw, model
        self.poll_interval = poll_interval
        self.sticky_header = sticky_header.lower() if sticky_header else None
        self.table = RoutingTable()
        self.last_error: str | None = None
        self._acc = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._refresh_lock = threading.Lock()
        self._failed: dict[str, tuple[float, str]] = {}  # version -> (retry after, error)

    # ------------------------------------------------------------------ registry following
    def refresh(self) -> RoutingTable:
        """Read aliases and weight, load what is new, publish a new table (one reference swap)."""

        with self._refresh_lock:
            st = state(self.gw, self.model)
            old = self.table
            loaded = dict(old.loaded)
            errors = []
            wanted = {st.aliases[a] for a in KEPT_ALIASES if a in st.aliases}
            for v in sorted(
                wanted - set(loaded), key=lambda x: (x != st.aliases.get("champion"), x)
            ):
                retry_at, error = self._failed.get(v, (0.0, ""))
                if time.monotonic() < retry_at:
                    errors.append(error)
                    continue
                try:
                    loaded[v] = load_version(self.gw, self.model, v)
                    self._failed.pop(v, None)
                except Exception as exc:  # keep serving what we have; retry a little later
                    errors.append(f"cannot load {self.model} v{v}: {exc}")
                    self._failed[v] = (time.monotonic() + 10.0, errors[-1])
                    log.warning(errors[-1])
            champion = loaded.get(st.aliases.get("champion", ""))
            canary = loaded.get(st.aliases.get("canary", ""))
            if champion is None and old.champion is not None and st.aliases.get("champion"):
                champion = old.champion  # new champion failed to load: keep the old one
            keep = {
                k: v
                for k, v in loaded.items()
                if k in wanted or (champion and k == champion.version)
            }
            new = RoutingTable(
                champion=champion,
                canary=canary if canary is not champion else None,
                weight=st.canary_weight if canary is not None else 0.0,
                shadow=st.shadow,
                loaded=keep,
                generation=old.generation + 1,
            )
            if (new.champion, new.canary, new.weight, new.shadow) != (
                old.champion,
                old.canary,
                old.weight,
                old.shadow,
            ):
                log.info(
                    "routing %s: champion=%s canary=%s weight=%s",
                    self.model,
                    new.champion and new.champion.version,
                    new.canary and new.canary.version,
                    new.weight,
                )
            self.table = new
            self.last_error = "; ".join(errors) or None
            _discard(v for k, v in loaded.items() if k not in keep)
            return new

    def start(self) -> None:
        self.refresh()
        self._thread = threading.Thread(target=self._poll, name=f"router-{self.model}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop following the registry and remove the files this router downloaded."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        with self._refresh_lock:
            _discard(self.table.loaded.values())

    def _poll(self) -> None:
        while not self._stop.wait(self.poll_interval):
            try:
                self.refresh()
            except Exception as exc:  # registry briefly unreachable: keep serving
                self.last_error = f"registry poll failed: {exc}"
                log.warning(self.last_error)

    # ------------------------------------------------------------------ per request
    def choose(
        self, table: RoutingTable, key: str | None = None
    ) -> tuple[LoadedVersion | None, str]:
        """(version, alias) for one request: sticky by key when given, else an exact split."""
        canary = table.canary
        if canary is None or table.weight <= 0:
            return table.champion, "champion"
        if key is not None:
            to_canary = (zlib.crc32(key.encode()) % 10_000) < table.weight * 100
        else:
            # deterministic error diffusion: over N requests the canary gets weight% +- 1 request
            self._acc += table.weight
            to_canary = self._acc >= 100.0
            if to_canary:
                self._acc -= 100.0
        if to_canary:
            return canary, "canary"
        return table.champion, "champion"

    def signature_columns(self, version: str | None) -> frozenset[str] | None:
        """The input names of a loaded version's signature (None: unknown or no signature)."""
        loaded = self.table.loaded.get(version or "")
        if loaded is None or loaded.columns is None:
            return None
        return frozenset(c.name for c in loaded.columns)

    def wait_for(self, predicate: Any, timeout: float = 10.0) -> bool:
        """Test helper: block until ``predicate(table)`` holds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self.table):
                return True
            time.sleep(0.02)
        return False


class PackagedRouter(ModelRouter):
    """The same router over one packaged model folder and no registry (a container started
    without ``MLFLOW_TRACKING_URI``): its version is the champion, nothing is polled."""

    def __init__(self, gw: Gateway, model: str, path: str, version: str) -> None:
        super().__init__(gw, model, poll_interval=3600.0)
        self.path, self.version = path, version

    def refresh(self) -> RoutingTable:
        if self.table.champion is None:
            loaded = load_path(self.path, self.version)
            self.table = RoutingTable(champion=loaded, loaded={self.version: loaded}, generation=1)
        return self.table
