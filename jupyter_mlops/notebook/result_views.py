"""The HTML of the domain's diffs and verdicts in a notebook (their text is
``commands/texts.py``), and ``Rendered``: what a ``%mlops`` view returns for them, so the cell
shows the HTML while ``_`` still answers the result's own fields (``_.verdict``, ``_.added``)."""

from __future__ import annotations

import html
from typing import Any

from ..commands.texts import changed_lines, env_diff_text, number
from ..datasets.diff import DatasetDiff
from ..reproduce.environment_diff import EnvDiff
from ..reproduce.rerun import Reproduction
from ..store.code_diff import CodeDiff

LINE_COLORS = {"+": "#e6ffed", "-": "#ffeef0", "@": "#f1f8ff"}
VERDICT_COLORS = {"reproduced": "#2e7d32", "differs": "#ef6c00"}


class Rendered:
    """A result with its views: shown as HTML in a notebook, as text elsewhere; its fields read
    through (``rendered.verdict`` is the result's)."""

    def __init__(self, value: Any, text: str, html_text: str) -> None:
        self.value, self.text, self.html = value, text, html_text

    def __getattr__(self, name: str) -> Any:
        return getattr(self.value, name)

    def __repr__(self) -> str:
        return self.text

    def _repr_html_(self) -> str:
        return self.html


def dataset_diff_html(diff: DatasetDiff, text: str) -> str:
    if diff.identical:
        return f"<div>{html.escape(text)}</div>"
    rows = [f"<tr><td>rows</td><td>{diff.rows[0]}</td><td>{diff.rows[1]}</td></tr>"]
    a_cols, b_cols = diff.a.columns, diff.b.columns
    for col in list(dict.fromkeys([*a_cols, *b_cols])):
        left = a_cols.get(col, {}).get("pandas_dtype", "—")
        right = b_cols.get(col, {}).get("pandas_dtype", "—")
        changed = col in diff.changed_data or col in diff.added or col in diff.removed
        style = " style='background:#fff3e0'" if changed else ""
        detail = "".join(
            f"<div>{html.escape(k)}: {number(x, '—')} → {number(y, '—')}</div>"
            for k, (x, y) in diff.stats.get(col, {}).items()
        )
        rows.append(
            f"<tr{style}><td><b>{html.escape(col)}</b></td><td>{html.escape(left)}</td>"
            f"<td>{html.escape(right)}{detail}</td></tr>"
        )
    return (
        f"<table><tr><th></th><th>{html.escape(diff.a.label)}</th>"
        f"<th>{html.escape(diff.b.label)}</th></tr>{''.join(rows)}</table>"
    )


def env_diff_html(diff: EnvDiff) -> str:
    return f"<pre>{html.escape(env_diff_text(diff))}</pre>"


def reproduction_html(result: Reproduction) -> str:
    color = VERDICT_COLORS.get(result.verdict, "#c62828")
    rows = "".join(
        f"<tr><td>{html.escape(k)}</td><td>{number(a)}</td><td>{number(b)}</td></tr>"
        for k, (a, b) in sorted(result.metrics.items())
    )
    reasons = "".join(f"<li>{html.escape(r)}</li>" for r in result.reasons)
    return (
        f"<div><b style='color:{color}'>{result.verdict.upper()}</b> "
        f"reproduction of {result.original_run_id[:8]} (run {result.run_id[:8]})</div>"
        f"<table><tr><th>metric</th><th>original</th><th>reproduced</th></tr>{rows}</table>"
        f"<ul>{reasons}</ul>"
    )


def code_diff_html(diff: CodeDiff) -> str:
    parts = [
        f"<div><b>{html.escape(diff.a)}</b> vs <b>{html.escape(diff.b)}</b>: "
        f"{html.escape(diff.summary())}</div>"
    ]
    for change in diff.cells:
        if change.status == "same":
            continue
        parts.append(
            f"<div style='margin-top:6px'><b>cell {change.position + 1}</b>: {change.status}</div>"
        )
        rows = "".join(
            f"<div style='background:{LINE_COLORS.get(line[:1], 'transparent')}'>"
            f"{html.escape(line) or '&nbsp;'}</div>"
            for line in changed_lines(change)
        )
        parts.append(f"<pre style='margin:0;font-size:12px'>{rows}</pre>")
    return "".join(parts)
