"""ipywidgets views of runs: a sortable table with a detail pane, a run, runs side by side.

Every value is escaped: a run name with HTML in it shows as text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from html import escape
from typing import Any

from IPython.display import display

from ..store.runs import key_metrics
from ..tags import ERROR_TAG, ERROR_TYPE_TAG, TAG_PREFIX, WARNINGS_TAG
from .result_views import code_diff_html

STYLE = """<style>
.jp-mlops-scroll{overflow:auto;max-height:460px;max-width:100%}
.jp-mlops-table{border-collapse:collapse;font-size:12px;line-height:1.35}
.jp-mlops-table th,.jp-mlops-table td{border-bottom:1px solid #ddd;padding:2px 8px !important;
  text-align:left;white-space:nowrap;vertical-align:top}
.jp-mlops-table th{position:sticky;top:0;background:var(--jp-layout-color1,#fff)}
.jp-mlops-table td.jp-mlops-num{text-align:right;font-family:var(--jp-code-font-family,monospace)}
.jp-mlops-diff{background:#fff3cd}
.jp-mlops-FAILED{color:#b00020}.jp-mlops-KILLED{color:#b36b00}.jp-mlops-RUNNING{color:#1a73e8}
</style>"""


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _when(ms: int | None) -> str:
    if not ms:
        return ""
    return dt.datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M:%S")


def html_table(headers: list[str], rows: list[list[Any]], diff_rows: set[int] | None = None) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = []
    for i, row in enumerate(rows):
        cls = ' class="jp-mlops-diff"' if diff_rows and i in diff_rows else ""
        cells = "".join(
            f'<td class="jp-mlops-num">{escape(_fmt(v))}</td>'
            if isinstance(v, (int, float)) and not isinstance(v, bool)
            else f"<td>{escape(_fmt(v))}</td>"
            for v in row
        )
        body.append(f"<tr{cls}>{cells}</tr>")
    return (
        f'{STYLE}<div class="jp-mlops-scroll"><table class="jp-mlops-table"><thead><tr>{head}</tr>'
        f"</thead><tbody>{''.join(body)}</tbody></table></div>"
    )


def runs_rows(
    runs: list[dict[str, Any]], metric_keys: list[str]
) -> tuple[list[str], list[list[Any]]]:
    headers = ["run", "name", "kind", "status", "started", *metric_keys]
    rows = [
        [
            r["run_id"][:8],
            r["name"],
            r["kind"],
            r["status"],
            _when(r["start_time"]),
            *[r["metrics"].get(k) for k in metric_keys],
        ]
        for r in runs
    ]
    return headers, rows


def runs_widget(runs: list[dict[str, Any]], detail: Callable[[str], Any]) -> Any:
    """Table of runs; sort by any column; picking a run shows its details below."""
    import ipywidgets as w

    metric_keys = key_metrics(runs, limit=8)
    headers, _ = runs_rows(runs, metric_keys)
    sort = w.Dropdown(options=headers, value="started", description="sort by")
    descending = w.ToggleButton(value=True, description="descending", icon="sort-amount-desc")
    table = w.HTML()
    pick = w.Dropdown(
        options=[("", "")] + [(f"{r['run_id'][:8]}  {r['name'] or ''}", r["run_id"]) for r in runs],
        description="details",
    )
    out = w.Output()

    def render(*_: Any) -> None:
        col = headers.index(sort.value)
        rows = runs_rows(runs, metric_keys)[1]
        rows.sort(
            key=lambda row: (row[col] is None, row[col] if row[col] is not None else 0),
            reverse=descending.value,
        )
        if descending.value:  # keep missing values last either way
            rows.sort(key=lambda row: row[col] is None)
        table.value = html_table(headers, rows)

    def show(change: Any) -> None:
        out.clear_output()
        if change["new"]:
            with out:
                display(detail(change["new"]))

    sort.observe(render, "value")
    descending.observe(render, "value")
    pick.observe(show, "value")
    render()
    return box_with_fallback([w.HBox([sort, descending]), table, pick, out])


def curves_figure(curves: dict[str, list[tuple[int, float]]]) -> Any:
    import matplotlib

    matplotlib.use("Agg") if matplotlib.get_backend().lower() == "agg" else None
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3))
    for key, points in curves.items():
        ax.plot([p[0] for p in points], [p[1] for p in points], marker=".", label=key)
    ax.set_xlabel("step")
    ax.legend(loc="best", fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    plt.close(fig)
    return fig


def run_widget(detail: dict[str, Any]) -> Any:
    import ipywidgets as w

    head = (
        f"<b>{escape(detail['name'] or '')}</b> <code>{escape(detail['run_id'])}</code> "
        f'<span class="jp-mlops-{escape(detail["status"])}">{escape(detail["status"])}</span> '
        f"{escape(detail['kind'])} · started {_when(detail['start_time'])}"
    )
    tags = detail.get("tags") or {}
    if detail["status"] in ("FAILED", "KILLED") and tags.get(ERROR_TAG) is not None:
        ename = tags.get(ERROR_TYPE_TAG) or "error"
        head += f"<br><b>error:</b> <code>{escape(ename)}: {escape(tags[ERROR_TAG])}</code>"
    for warning in filter(None, tags.get(WARNINGS_TAG, "").split(" | ")):
        head += f"<br><b>warning:</b> {escape(warning)}"
    parts = [w.HTML(STYLE + head)]
    params = sorted(detail["params"].items())
    metrics = sorted(detail["metrics"].items())
    parts.append(
        w.HBox(
            [
                w.HTML(html_table(["param", "value"], [list(p) for p in params])),
                w.HTML(html_table(["metric", "value"], [list(m) for m in metrics])),
            ]
        )
    )
    if detail["curves"]:
        out = w.Output()
        with out:
            display(curves_figure(detail["curves"]))
        parts.append(out)
    if detail["models"]:
        parts.append(
            w.HTML(html_table(["model", "uri"], [[m["name"], m["uri"]] for m in detail["models"]]))
        )
    if detail["datasets"]:
        parts.append(
            w.HTML(
                html_table(
                    ["dataset", "digest", "context"],
                    [[d["name"], d["digest"], d["context"]] for d in detail["datasets"]],
                )
            )
        )
    env = detail.get("environment") or {}
    if env:
        summary = f"Python {env.get('python')} · {env.get('platform')} · {len(env.get('distributions', {}))} distributions · env {env.get('hash')}"
        parts.append(w.HTML(f"<div>{escape(summary)}</div>"))
    if detail.get("cell_source"):
        parts.append(w.HTML(f"<pre>{escape(detail['cell_source'])}</pre>"))
    return box_with_fallback(parts)


def compare_widget(table: dict[str, Any]) -> Any:
    import ipywidgets as w

    names = [f"{r['name'] or ''} ({r['run_id'][:8]})" for r in table["runs"]]
    parts = []
    for section in ("params", "metrics", "environment"):
        rows = table[section]
        if not rows:
            continue
        diff = {i for i, row in enumerate(rows) if row["differs"]}
        parts.append(
            w.HTML(
                f"<h4>{section}</h4>"
                + html_table(["key", *names], [[r["key"], *r["values"]] for r in rows], diff)
            )
        )
    numeric = [
        r
        for r in table["metrics"]
        if all(isinstance(v, (int, float)) for v in r["values"])
        and not r["key"].startswith(TAG_PREFIX)
    ]
    if numeric:
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 0.4 + 0.5 * len(numeric)))
        height = 0.8 / len(names)
        for j, name in enumerate(names):
            ax.barh(
                [i + j * height for i in range(len(numeric))],
                [r["values"][j] for r in numeric],
                height,
                label=name,
            )
        ax.set_yticks(
            [i + 0.4 - height / 2 for i in range(len(numeric))], [r["key"] for r in numeric]
        )
        ax.legend(fontsize=8)
        fig.tight_layout()
        plt.close(fig)
        out = w.Output()
        with out:
            display(fig)
        parts.append(out)
    if table.get("cell_diff"):
        colors = {"+": "#e6ffed", "-": "#ffeef0", "@": "#f1f8ff"}
        lines = "".join(
            f'<div style="background:{colors.get(line[:1], "transparent")}">{escape(line) or "&nbsp;"}</div>'
            for line in table["cell_diff"]
        )
        parts.append(w.HTML(f"<h4>cell code</h4><pre style='line-height:1.35'>{lines}</pre>"))
    if table.get("code_diff") is not None:
        parts.append(w.HTML("<h4>code</h4>" + code_diff_html(table["code_diff"])))
    return box_with_fallback(parts)


_box_class: Any = None


def _static_html(widget: Any) -> str:
    """The HTML a widget tree shows, for viewers that cannot run widgets."""
    value = getattr(widget, "value", None)
    if type(widget).__name__ == "HTML" and isinstance(value, str):
        return value
    children = getattr(widget, "children", ()) or ()
    inner = "".join(_static_html(c) for c in children)
    if type(widget).__name__ == "HBox" and inner:
        return f'<div style="display:flex;gap:16px">{inner}</div>'
    return inner


def box_with_fallback(children: list[Any]) -> Any:
    """A VBox whose output also carries static HTML (papermill outputs, nbviewer, GitHub show
    that; JupyterLab renders the live widget)."""
    global _box_class
    if _box_class is None:
        import ipywidgets as w

        class FallbackBox(w.VBox):
            def _repr_mimebundle_(self, **kwargs: Any) -> Any:
                bundle = super()._repr_mimebundle_(**kwargs)
                if isinstance(bundle, dict):
                    bundle["text/html"] = _static_html(self)
                return bundle

        _box_class = FallbackBox
    return _box_class(children)
