"""Lineage read from MLflow's own records, never from a parallel database.

Links used: a dataset version's source (the file path and hash recorded when a cell read a file),
a run's dataset inputs (``datasets.digest`` is searchable), a run's logged models (run outputs and
``source_run_id``), and a registered version's ``model_id`` / ``run_id``. From the focus the graph
is walked upstream ("what produced this?") and downstream ("what used this?").

References: ``models:/NAME/3``, ``models:/NAME@champion`` (or ``NAME/3``), ``m-<id>`` (a logged
model), a run id / key / name, ``NAME@N`` or a digest (a dataset version), ``file:PATH`` (a data
file). Prefixes ``run:``, ``dataset:``, ``model:`` force a reading.
"""

from __future__ import annotations

import json
import re
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from ..datasets.cell_inputs import file_source
from ..datasets.versions import T_SOURCE, _search, find_by_digest, resolve
from ..errors import InvalidInput, NotFound
from ..store.runs import get_run
from ..tags import DATASET_DIGEST_TAG, DATASET_NAME_TAG, KIND_TAG, MODEL_ID_TAG
from .graph import LineageGraph, Node

if TYPE_CHECKING:
    from ..store.gateway import Gateway

MAX_NODES = 200
_MODEL_ID = re.compile(r"(?:^|[:/])(m-[0-9a-f]{32})(?:/|$)")
_MV = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]{0,127})(/(?P<ver>\d+)|@(?P<alias>[\w-]+))$")


def _model_id_of(mv: Any) -> str | None:
    """The logged model behind a registered version: its model_id, our tag, or its source URI."""
    found = getattr(mv, "model_id", None) or (mv.tags or {}).get(MODEL_ID_TAG)
    if found:
        return cast("str", found)
    m = _MODEL_ID.search(mv.source or "")
    return m.group(1) if m else None


class _Builder:
    def __init__(self, gw: Gateway) -> None:
        self.gw, self.ws = gw, gw.ws
        self.client = gw.client
        self.graph: LineageGraph | None = None
        self.dataset_sources: dict[str, dict[str, Any]] = {}
        self._exp_ids: list[str] | None = None

    # -- node constructors ----------------------------------------------------------------------
    def run_node(self, run: Any) -> Node:
        tags = run.data.tags
        kind = tags.get(KIND_TAG, "run")
        label = run.info.run_name or run.info.run_id[:8]
        return Node(f"run:{run.info.run_id}", "run", label, f"{kind} {run.info.run_id[:8]}")

    def dataset_node(self, name: str, digest: str, profile: str | None = None) -> Node:
        detail = f"digest {digest[:8]}"
        try:
            prof = json.loads(profile or "{}")
            detail += f", {prof['num_rows']} rows x {prof['num_columns']} cols"
        except (ValueError, KeyError, TypeError):
            pass
        return Node(f"dataset:{digest}", "dataset", f"{name}@{digest[:8]}", detail)

    def file_node(self, path: str, digest: str) -> Node:
        return Node(f"file:{path}#{digest[:16]}", "file", path, f"hash {digest[:8]}")

    def model_node(self, lm: Any) -> Node:
        return Node(f"model:{lm.model_id}", "model", lm.name or lm.model_id, lm.model_id[:14])

    def mv_node(self, mv: Any) -> Node:
        aliases = ", ".join(getattr(mv, "aliases", []) or [])
        return Node(
            f"model_version:{mv.name}/{mv.version}",
            "model_version",
            f"{mv.name} v{mv.version}",
            f"@{aliases}" if aliases else "registered",
        )

    # -- lookups --------------------------------------------------------------------------------
    def exp_ids(self) -> list[str]:
        if self._exp_ids is None:
            self._exp_ids = [e.experiment_id for e in self.client.search_experiments()]
        return self._exp_ids

    def remember_source(self, digest: str, source: str | dict[str, Any] | None) -> None:
        if isinstance(source, str):
            try:
                source = json.loads(source)
            except ValueError:
                source = None
        if isinstance(source, dict) and source.get("file") and source.get("file_hash"):
            self.dataset_sources.setdefault(digest, source)

    # -- expansion ------------------------------------------------------------------------------
    def upstream(self, node: Node) -> list[tuple[Node, str]]:
        """(parent, relation) pairs of ``node``."""
        kind, ident = node.kind, node.id.split(":", 1)[1]
        out: list[tuple[Node, str]] = []
        if kind == "model_version":
            name, version = ident.rsplit("/", 1)
            mv = self.client.get_model_version(name, version)
            model_id = _model_id_of(mv)
            if model_id:
                out.append(
                    (self.model_node(self.client.get_logged_model(model_id)), "registered as")
                )
            elif mv.run_id:
                out.append((self.run_node(self.client.get_run(mv.run_id)), "registered as"))
        elif kind == "model":
            lm = self.client.get_logged_model(ident)
            if lm.source_run_id:
                out.append((self.run_node(self.client.get_run(lm.source_run_id)), "logged"))
        elif kind == "run":
            run = self.client.get_run(ident)
            for di in run.inputs.dataset_inputs if run.inputs else []:
                ctx = next((t.value for t in di.tags if t.key == "mlflow.data.context"), None)
                if ctx == "snapshot":
                    continue
                ds = di.dataset
                self.remember_source(ds.digest, ds.source)
                out.append((self.dataset_node(ds.name, ds.digest, ds.profile), ctx or "input"))
        elif kind == "dataset":
            src = self.dataset_sources.get(ident)
            if src is None:
                for v in find_by_digest(self.gw, ident):
                    self.remember_source(ident, v.source)
                src = self.dataset_sources.get(ident)
            if src:
                out.append((self.file_node(src["file"], src["file_hash"]), "read"))
        return out

    def downstream(self, node: Node) -> list[tuple[Node, str]]:
        """(child, relation) pairs of ``node``."""
        kind, ident = node.kind, node.id.split(":", 1)[1]
        out: list[tuple[Node, str]] = []
        if kind == "file":
            path = ident.rsplit("#", 1)[0]
            for run in _search(self.gw, f"tags.`{T_SOURCE}` LIKE '%{json.dumps(path)[1:-1]}%'"):
                tags = run.data.tags
                src = json.loads(tags.get(T_SOURCE) or "{}")
                if src.get("file") == path and src.get("file_hash", "").startswith(
                    ident.rsplit("#", 1)[1]
                ):
                    digest = tags[DATASET_DIGEST_TAG]
                    out.append((self.dataset_node(tags[DATASET_NAME_TAG], digest), "read"))
        elif kind == "dataset":
            runs = self.client.search_runs(
                self.exp_ids(), filter_string=f"datasets.digest = '{ident}'", max_results=200
            )
            for run in runs:
                if run.data.tags.get(KIND_TAG) == "dataset":
                    continue
                ctx = "input"
                for di in run.inputs.dataset_inputs if run.inputs else []:
                    if di.dataset.digest == ident:
                        ctx = next(
                            (t.value for t in di.tags if t.key == "mlflow.data.context"), ctx
                        )
                out.append((self.run_node(run), ctx or "input"))
        elif kind == "run":
            run = self.client.get_run(ident)
            ids = [o.model_id for o in (run.outputs.model_outputs if run.outputs else [])]
            found = self.client.search_logged_models(
                experiment_ids=[run.info.experiment_id], filter_string=f"source_run_id = '{ident}'"
            )
            ids += [m.model_id for m in found]
            for model_id in dict.fromkeys(ids):
                out.append((self.model_node(self.client.get_logged_model(model_id)), "logged"))
            for mv in self.client.search_model_versions(f"run_id = '{ident}'"):
                if not _model_id_of(mv):
                    out.append((self.mv_node(mv), "registered as"))
        elif kind == "model":
            lm = self.client.get_logged_model(ident)
            if lm.source_run_id:
                for mv in self.client.search_model_versions(f"run_id = '{lm.source_run_id}'"):
                    if _model_id_of(mv) == ident:
                        out.append((self.mv_node(mv), "registered as"))
        return out

    # -- the focus ------------------------------------------------------------------------------
    def focus(self, ref: str) -> Node:
        from mlflow.exceptions import MlflowException

        if not isinstance(ref, str) or not ref.strip():
            raise InvalidInput("lineage needs a reference", hint=_HINT)
        ref = ref.strip()
        forced, _, rest = ref.partition(":")
        if forced == "models":
            return self._model_version(rest.lstrip("/"))
        if forced == "file":
            return self._file(rest)
        if forced == "model" or ref.startswith("m-"):
            ident = rest if forced == "model" else ref
            try:
                return self.model_node(self.client.get_logged_model(ident))
            except MlflowException:
                raise NotFound(f"no logged model {ident!r}", hint=_HINT) from None
        if forced == "run":
            return self._run(rest)
        if forced == "dataset":
            return self._dataset(rest)
        if re.fullmatch(r"[0-9a-f]{32}", ref):
            try:
                return self.run_node(self.client.get_run(ref))
            except MlflowException:
                return self._dataset(ref)
        if "@" in ref or re.fullmatch(r"[0-9a-f]{6,31}", ref):
            try:
                return self._dataset(ref)
            except NotFound as missing:
                if "@" not in ref:
                    return self._run(ref)
                try:
                    return self._model_version(ref)
                except (NotFound, InvalidInput):
                    raise NotFound(
                        f"{missing.message}, and no registered model version {ref!r}", hint=_HINT
                    ) from None
        if "/" in ref and _MV.match(ref):
            return self._model_version(ref)
        if self._in_workspace(ref) is not None:
            return self._file(str(self._in_workspace(ref)))
        try:
            return self._run(ref)
        except (NotFound, InvalidInput):
            raise NotFound(
                f"nothing named {ref!r} in this workspace's lineage", hint=_HINT
            ) from None

    def _in_workspace(self, name: str) -> Path | None:
        """A bare name as a file of the workspace (never of whatever folder the process is in)."""
        if Path(name).is_absolute():
            return None
        candidate = (self.ws.root / name).resolve()
        return candidate if self.ws.contains(candidate) and candidate.is_file() else None

    def _run(self, ref: str) -> Node:
        return self.run_node(get_run(self.gw, ref))

    def _dataset(self, ref: str) -> Node:
        v = resolve(self.gw, ref)
        if not v.run_id:
            raise NotFound(f"no dataset version {ref!r}", hint=_HINT)
        self.remember_source(v.digest, v.source)
        node = self.dataset_node(v.name, v.digest)
        return Node(node.id, node.kind, node.label, f"{node.detail}, {v.rows} rows")

    def _model_version(self, ref: str) -> Node:
        from mlflow.exceptions import MlflowException

        m = _MV.match(ref)
        if not m:
            raise InvalidInput(f"{ref!r} is not a model version", hint="use models:/NAME/VERSION")
        try:
            if m.group("alias"):
                mv = self.client.get_model_version_by_alias(m.group("name"), m.group("alias"))
            else:
                mv = self.client.get_model_version(m.group("name"), m.group("ver"))
        except MlflowException:
            raise NotFound(f"no registered model version {ref!r}", hint=_HINT) from None
        return self.mv_node(mv)

    def _file(self, path: str) -> Node:
        src = file_source(path)
        if src is None:
            raise NotFound(f"no file {path!r}", hint="give a path relative to the project")
        return self.file_node(src["path"], src["hash"])


_HINT = (
    "give a run id, a dataset NAME@VERSION or digest, m-<model id>, models:/NAME/VERSION "
    "or file:PATH"
)


def lineage(gw: Gateway, ref: str, *, direction: str = "both") -> LineageGraph:
    """The lineage graph around ``ref``: upstream, downstream or both."""
    if direction not in ("both", "up", "down"):
        raise InvalidInput(f"direction {direction!r}", hint="use both, up or down")
    builder = _Builder(gw)
    focus = builder.focus(ref)
    graph = LineageGraph(focus=focus.id)
    graph.add(focus)
    builder.graph = graph
    for forward in (False, True):
        if (forward and direction == "up") or (not forward and direction == "down"):
            continue
        queue, seen = deque([focus]), {focus.id}
        while queue and len(graph.nodes) < MAX_NODES:
            node = queue.popleft()
            pairs = builder.downstream(node) if forward else builder.upstream(node)
            for other, relation in pairs:
                other = graph.add(other)
                if forward:
                    graph.link(node.id, other.id, relation)
                else:
                    graph.link(other.id, node.id, relation)
                if other.id not in seen:
                    seen.add(other.id)
                    queue.append(other)
    return graph
