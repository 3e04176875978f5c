"""Model cards: what a version is for, what it was trained on, how it did, and where it came from.

Written as Markdown (for git and review) and self-contained HTML (charts inlined) for every
validated version, logged under ``card/`` of its gate run (tag ``mlops.card_run_id`` on the
version), and kept in ``.mlops/cards/<model>/v<version>/``.
"""

from __future__ import annotations

import base64
import html as html_lib
import json
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..tags import CARD_RUN_ID_TAG, GATES_TAG, LINEAGE_TAG, MODEL_ID_TAG, REGISTERED_BY_TAG
from .gates.result import GateReport, recorded_report
from .policy import load_policy
from .registration import get_version, version_location

if TYPE_CHECKING:
    from ..store.gateway import Gateway


@dataclass
class ModelCard:
    markdown: str
    html: str
    md_path: Path
    html_path: Path


def _report_from_store(gw: Gateway, mv: Any) -> GateReport | None:
    """The version's recorded gate report, with its charts fetched for the card."""

    report = recorded_report(gw, mv)
    if report is None or not report.run_id:
        return report
    dst = gw.ws.subdir("cards") / ".downloads" / report.run_id
    shutil.rmtree(dst, ignore_errors=True)
    dst.mkdir(parents=True)
    for name in ("fairness", "importance"):
        try:
            path = gw.client.download_artifacts(report.run_id, f"gates/{name}.png", str(dst))
        except Exception:
            continue
        report.artifacts[name] = path
    return report


def _table(head: list[str], rows: list[list[Any]]) -> str:
    def cell(v: Any) -> str:
        s = f"{v:.4g}" if isinstance(v, float) else ("-" if v is None else str(v))
        return s.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(cell(v) for v in r) + " |" for r in rows]
    return "\n".join(lines)


def build_markdown(gw: Gateway, mv: Any, report: GateReport | None) -> str:
    """The card as Markdown: one section after another, each built from what was recorded."""
    lineage = json.loads(mv.tags.get(LINEAGE_TAG) or "{}")
    sections = [
        _header(mv),
        _intended_use(load_policy(gw.ws)),
        _training_data(gw, lineage),
        *(_evaluation_sections(report) if report is not None else [_not_validated(mv)]),
        _environment(gw, mv, lineage),
        _lineage(mv, lineage, report),
    ]
    return "\n".join(line for section in sections for line in section)


def _header(mv: Any) -> list[str]:
    aliases = ", ".join(mv.aliases) or "none"
    verdict = mv.tags.get(GATES_TAG, "pending")
    return [
        f"# Model card: {mv.name} v{mv.version}",
        "",
        f"Aliases: {aliases}. Gates: **{verdict}**.",
        "",
    ]


def _intended_use(policy: Any) -> list[str]:
    out = [
        "## Intended use",
        "",
        policy.intended_use or "_Not stated (set `release.intended_use` in mlops.yaml)._",
        "",
    ]
    if policy.limitations:
        out += ["## Limitations", "", policy.limitations, ""]
    return out


def _training_data(gw: Gateway, lineage: dict[str, Any]) -> list[str]:
    datasets = lineage.get("datasets") or []
    if not datasets:
        return [
            "## Training data",
            "",
            "_No dataset versions were recorded with the training run._",
            "",
        ]
    rows = [[d.get("name"), d.get("digest"), d.get("context"), d.get("source")] for d in datasets]
    out = ["## Training data", "", _table(["dataset", "digest", "context", "source"], rows)]
    for name, prof in _profiles(gw, lineage.get("run_id")).items():
        out += ["", f"Profile of `{name}`: `{prof}`"]
    return out + [""]


def _evaluation_sections(report: GateReport) -> list[list[str]]:
    return [_metrics(report), _gate_results(report), _fairness(report), _importance(report)]


def _metrics(report: GateReport) -> list[str]:
    champ = report.champion or {}
    cm = champ.get("metrics") or {}
    ev = report.evaluation
    rows = [
        [k, v, cm.get(k), (v - cm[k]) if k in cm else None]
        for k, v in sorted(report.metrics.items())
    ]
    head = ["metric", "this version", f"champion v{champ.get('version') or '-'}", "change"]
    return [
        "## Metrics",
        "",
        f"On evaluation data `{ev.get('name', '-')}` (digest {ev.get('digest', '-')}, {ev.get('rows', '-')} rows).",
        "",
        _table(head, rows),
        "",
    ]


def _gate_results(report: GateReport) -> list[str]:
    head = ["gate", "kind", "value", "threshold", "verdict", "reason"]
    return ["## Gate results", "", _table(head, report.rows()), ""]


def _fairness(report: GateReport) -> list[str]:
    fair = next((r for r in report.results if r.gate == "fairness" and r.details), None)
    if fair is None:
        return []
    d = fair.details
    rows = [[g, v, d["counts"].get(g)] for g, v in d["by_group"].items()]
    return [
        "## Fairness",
        "",
        f"{d['metric']} by `{d['sensitive']}` (overall {d['overall']:.4g}); largest gap {fair.value}.",
        "",
        _table(["group", d["metric"], "rows"], rows),
        "",
        "![fairness](fairness.png)",
        "",
    ]


def _importance(report: GateReport) -> list[str]:
    imp = next((r for r in report.results if r.gate == "importance" and r.details), None)
    if imp is None:
        return []
    rows = [[c, imp.details["importance"][c]] for c in imp.details["top"]]
    return [
        "## Feature importance",
        "",
        "Permutation importance (drop in score when a feature is shuffled):",
        "",
        _table(["feature", "importance"], rows),
        "",
        "![importance](importance.png)",
        "",
    ]


def _not_validated(mv: Any) -> list[str]:
    hint = f"_Not validated yet: run `jupyter-mlops validate {mv.name} {mv.version}`._"
    return ["## Gate results", "", hint, ""]


def _environment(gw: Gateway, mv: Any, lineage: dict[str, Any]) -> list[str]:
    return [
        "## Environment",
        "",
        f"- environment hash: {lineage.get('env_hash') or '-'}",
        f"- requirements: {', '.join(_requirements(gw, mv)) or '-'}",
        "",
    ]


def _lineage(mv: Any, lineage: dict[str, Any], report: GateReport | None) -> list[str]:
    return [
        "## Lineage",
        "",
        f"- training run: {lineage.get('run_id') or mv.run_id} ({lineage.get('run_name') or '-'})",
        f"- notebook: {lineage.get('notebook') or '-'}",
        f"- git commit: {lineage.get('git_sha') or '-'}",
        f"- logged model: {mv.tags.get(MODEL_ID_TAG) or '-'}",
        f"- registered by: {mv.tags.get(REGISTERED_BY_TAG) or '-'}",
        f"- gate run: {report.run_id if report else '-'}",
        "",
    ]


def _profiles(gw: Gateway, run_id: str | None) -> dict[str, str]:
    if not run_id:
        return {}

    run = gw.client.get_run(run_id)
    return {
        di.dataset.name: (di.dataset.profile or "")[:400]
        for di in (run.inputs.dataset_inputs if run.inputs else [])
        if di.dataset.profile
    }


def _requirements(gw: Gateway, mv: Any) -> list[str]:
    """The model's requirements.txt, read in place or fetched alone (not the model's files)."""
    try:
        loc = version_location(gw, mv)
        if loc.local_path is not None:
            text = (loc.local_path / "requirements.txt").read_text()
        else:
            with tempfile.TemporaryDirectory(prefix="mlops-card-") as tmp:
                uri = f"{loc.uri.rstrip('/')}/requirements.txt"
                text = gw.download(uri, Path(tmp)).read_text()
    except Exception:
        return []
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def markdown_to_html(md: str, images: dict[str, Path]) -> str:
    """A small Markdown subset (headings, tables, lists, images, emphasis) to standalone HTML."""

    def inline(text: str) -> str:
        t = html_lib.escape(text)
        t = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", t)
        t = re.sub(r"`(.+?)`", r"<code>\1</code>", t)
        return re.sub(r"(?<!\w)_(.+?)_(?!\w)", r"<i>\1</i>", t)

    body: list[str] = []
    table: list[str] = []
    items: list[str] = []

    def flush() -> None:
        if table:
            head, *rest = table
            rows = [r for r in rest if not set(r.replace("|", "").strip()) <= {"-"}]

            def cells(r: str, tag: str) -> str:
                parts = re.split(r"(?<!\\)\|", r.strip().strip("|"))
                return "".join(f"<{tag}>{inline(c.strip())}</{tag}>" for c in parts)

            body.append(
                "<table><tr>"
                + cells(head, "th")
                + "</tr>"
                + "".join(f"<tr>{cells(r, 'td')}</tr>" for r in rows)
                + "</table>"
            )
            table.clear()
        if items:
            body.append("<ul>" + "".join(f"<li>{inline(i)}</li>" for i in items) + "</ul>")
            items.clear()

    for line in md.splitlines():
        if line.startswith("|"):
            table.append(line)
            continue
        if line.startswith("- "):
            items.append(line[2:])
            continue
        flush()
        if m := re.match(r"^(#+) (.*)", line):
            level = len(m.group(1))
            body.append(f"<h{level}>{inline(m.group(2))}</h{level}>")
        elif m := re.match(r"^!\[(.*)\]\((.*)\)$", line):
            path = images.get(m.group(2))
            if path and path.exists():
                data = base64.b64encode(path.read_bytes()).decode()
                body.append(
                    f"<img alt='{html_lib.escape(m.group(1))}' src='data:image/png;base64,{data}'/>"
                )
        elif line.strip():
            body.append(f"<p>{inline(line)}</p>")
    flush()
    style = "body{font-family:sans-serif;max-width:60em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}"
    return f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>model card</title><style>{style}</style></head><body class='jp-mlops-card'>{''.join(body)}</body></html>"


def write_card(
    gw: Gateway,
    model: str,
    version: str | int,
    *,
    report: GateReport | None = None,
    out_dir: str | Path | None = None,
) -> ModelCard:
    """Write the card of ``model`` v``version`` and attach it to the version's gate run."""

    mv = get_version(gw, model, version)
    if report is None:
        report = _report_from_store(gw, mv)
    md = build_markdown(gw, mv, report)
    folder = gw.ws.subdir("cards") / model / f"v{mv.version}"
    folder.mkdir(parents=True, exist_ok=True)
    images = {}
    for name in ("fairness", "importance"):
        src = report.artifacts.get(name) if report else None
        if src and Path(src).exists():
            if Path(src).resolve() != (folder / f"{name}.png").resolve():
                shutil.copy(src, folder / f"{name}.png")
            images[f"{name}.png"] = folder / f"{name}.png"
    html = markdown_to_html(md, images)
    md_path, html_path = folder / "model_card.md", folder / "model_card.html"
    md_path.write_text(md)
    html_path.write_text(html)
    if report is not None and report.run_id:
        client = gw.client
        for f in (md_path, html_path, *images.values()):
            client.log_artifact(report.run_id, str(f), "card")
        client.set_model_version_tag(model, str(mv.version), CARD_RUN_ID_TAG, report.run_id)
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        for f in (md_path, html_path, *images.values()):
            shutil.copy(f, out / f.name)
    return ModelCard(md, html, md_path, html_path)
