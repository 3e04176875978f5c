"""The lineage graph: typed nodes, directed "feeds" edges, and two renderings.

Nodes flow left to right: source files -> dataset versions -> runs (cells, notebook steps) ->
logged models -> registered model versions. The graph object answers both questions by walking
edges (``upstream``: what produced it; ``downstream``: what used it), prints as text for the CLI
and draws itself as a self-contained SVG in the notebook (``_repr_svg_``): no graphviz, no
matplotlib, no network.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

KINDS = ("file", "dataset", "run", "model", "model_version")
KIND_LABEL = {
    "file": "source file",
    "dataset": "dataset version",
    "run": "run",
    "model": "logged model",
    "model_version": "registered version",
}
COLORS = {
    "file": "#eceff1",
    "dataset": "#e3f2fd",
    "run": "#fff3e0",
    "model": "#e8f5e9",
    "model_version": "#f3e5f5",
}


@dataclass(frozen=True)
class Node:
    id: str  # "<kind>:<identity>", e.g. "dataset:<digest>", "run:<run id>"
    kind: str
    label: str
    detail: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"id": self.id, "kind": self.kind, "label": self.label, "detail": self.detail}


@dataclass
class LineageGraph:
    focus: str
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: set[tuple[str, str, str]] = field(default_factory=set)  # (from, to, relation)

    def add(self, node: Node) -> Node:
        return self.nodes.setdefault(node.id, node)

    def link(self, src: str, dst: str, relation: str) -> None:
        if src != dst:
            self.edges.add((src, dst, relation))

    def _walk(self, start: str, forward: bool) -> list[Node]:
        seen, todo, out = {start}, [start], []
        while todo:
            current = todo.pop()
            for a, b, _ in sorted(self.edges):
                nxt = b if forward and a == current else a if not forward and b == current else None
                if nxt is not None and nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
                    out.append(self.nodes[nxt])
        return out

    def upstream(self, node_id: str | None = None) -> list[Node]:
        """Everything that fed ``node_id`` (default: the focus), transitively."""
        return self._walk(node_id or self.focus, forward=False)

    def downstream(self, node_id: str | None = None) -> list[Node]:
        """Everything ``node_id`` (default: the focus) fed, transitively."""
        return self._walk(node_id or self.focus, forward=True)

    def to_dict(self) -> dict[str, Any]:
        return {
            "focus": self.focus,
            "nodes": [n.to_dict() for n in self._ordered()],
            "edges": [{"from": a, "to": b, "relation": r} for a, b, r in sorted(self.edges)],
        }

    def _ordered(self) -> list[Node]:
        return sorted(self.nodes.values(), key=lambda n: (KINDS.index(n.kind), n.label, n.id))

    # -- text -----------------------------------------------------------------------------------
    def to_text(self) -> str:
        focus = self.nodes.get(self.focus)
        lines = [f"lineage of {KIND_LABEL[focus.kind]} {focus.label}" if focus else "lineage"]
        up = self.upstream()
        down = self.downstream()
        for title, nodes in (("produced by (upstream)", up), ("used by (downstream)", down)):
            lines.append("")
            lines.append(f"{title}:")
            if not nodes:
                lines.append("  (nothing recorded)")
            for kind in KINDS:
                for n in sorted((n for n in nodes if n.kind == kind), key=lambda n: n.label):
                    extra = f"  {n.detail}" if n.detail else ""
                    lines.append(f"  {KIND_LABEL[kind]:<19} {n.label}{extra}")
        lines.append("")
        lines.append("edges:")
        for a, b, rel in sorted(self.edges, key=lambda e: (self._rank(e[0]), e)):
            lines.append(f"  {self.nodes[a].label} --{rel}--> {self.nodes[b].label}")
        return "\n".join(lines)

    def _rank(self, node_id: str) -> int:
        return KINDS.index(self.nodes[node_id].kind)

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        focus = self.nodes.get(self.focus)
        label = focus.label if focus else self.focus
        return f"<LineageGraph of {label}: {len(self.nodes)} nodes, {len(self.edges)} edges>"

    # -- picture --------------------------------------------------------------------------------
    def to_svg(self) -> str:
        """Columns by kind, boxes with labels, curved arrows; the focus node outlined in red."""
        box_w, box_h, gap_x, gap_y, pad = 190, 40, 60, 18, 20
        columns = [k for k in KINDS if any(n.kind == k for n in self.nodes.values())]
        pos: dict[str, tuple[float, float]] = {}
        height = 0
        for ci, kind in enumerate(columns):
            members = sorted(
                (n for n in self.nodes.values() if n.kind == kind), key=lambda n: n.label
            )
            for ri, node in enumerate(members):
                pos[node.id] = (pad + ci * (box_w + gap_x), pad + 24 + ri * (box_h + gap_y))
            height = max(height, pad + 24 + len(members) * (box_h + gap_y))
        width = pad * 2 + max(1, len(columns)) * (box_w + gap_x) - gap_x
        out = [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + pad}" '
            f'viewBox="0 0 {width} {height + pad}" font-family="sans-serif" font-size="11">',
            '<defs><marker id="mlops-arrow" viewBox="0 0 10 10" refX="10" refY="5" '
            'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
            '<path d="M 0 0 L 10 5 L 0 10 z" fill="#607d8b"/></marker></defs>',
        ]
        for ci, kind in enumerate(columns):
            x: float = pad + ci * (box_w + gap_x)
            out.append(
                f'<text x="{x + box_w / 2}" y="{pad + 10}" text-anchor="middle" '
                f'font-weight="bold" fill="#37474f">{html.escape(KIND_LABEL[kind])}s</text>'
            )
        for a, b, rel in sorted(self.edges):
            (x1, y1), (x2, y2) = pos[a], pos[b]
            sx, sy, ex, ey = x1 + box_w, y1 + box_h / 2, x2, y2 + box_h / 2
            if x2 <= x1:  # same column or backwards: route around
                sx, ex = x1 + box_w, x2 + box_w
                mid = max(sx, ex) + 30
                path = f"M {sx} {sy} C {mid} {sy}, {mid} {ey}, {ex} {ey}"
            else:
                mid = (sx + ex) / 2
                path = f"M {sx} {sy} C {mid} {sy}, {mid} {ey}, {ex} {ey}"
            out.append(
                f'<path d="{path}" fill="none" stroke="#90a4ae" stroke-width="1.3" '
                f'marker-end="url(#mlops-arrow)"><title>{html.escape(rel)}</title></path>'
            )
        for node_id, (x, y) in pos.items():
            node = self.nodes[node_id]
            stroke = "#d32f2f" if node_id == self.focus else "#78909c"
            width_px = 2.5 if node_id == self.focus else 1
            label = node.label if len(node.label) <= 30 else node.label[:29] + "…"
            detail = node.detail if len(node.detail) <= 34 else node.detail[:33] + "…"
            out.append(
                f"<g><title>{html.escape(node.id)}</title>"
                f'<rect x="{x}" y="{y}" width="{box_w}" height="{box_h}" rx="6" '
                f'fill="{COLORS[node.kind]}" stroke="{stroke}" stroke-width="{width_px}"/>'
                f'<text x="{x + 8}" y="{y + 16}" fill="#263238">{html.escape(label)}</text>'
                f'<text x="{x + 8}" y="{y + 31}" fill="#607d8b" font-size="9.5">'
                f"{html.escape(detail)}</text></g>"
            )
        out.append("</svg>")
        return "".join(out)

    def _repr_svg_(self) -> str:
        return self.to_svg()
