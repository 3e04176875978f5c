"""Dataset versions and the lineage graph."""

from __future__ import annotations

from typing import Any

from .base import TypedDict


class DatasetVersion(TypedDict):
    """A registered version of a dataset (``ref`` is NAME@VERSION)."""

    ref: str
    name: str
    version: int | None
    digest: str
    rows: int | None
    columns: int | None
    created: int
    run_id: str
    source: dict[str, Any]


class DatasetList(TypedDict):
    """``GET datasets?name=``."""

    datasets: list[DatasetVersion]


class LineageNode(TypedDict):
    id: str
    kind: str
    label: str
    detail: str


# "from" is a Python keyword: the functional form names it
LineageEdge = TypedDict("LineageEdge", {"from": str, "to": str, "relation": str})


class LineageGraph(TypedDict):
    """``GET lineage?node=REF``: the graph around ``focus``."""

    focus: str
    nodes: list[LineageNode]
    edges: list[LineageEdge]
