"""How the domain's diffs and verdicts read as plain text, for every front end: the terminal
prints these, ``%mlops`` shows them beside its HTML (``notebook/result_views.py``) and the REST
API answers a code diff with its text. The domain keeps plain data; this is one of its views."""

from __future__ import annotations

from typing import Any

from ..datasets.diff import DatasetDiff
from ..reproduce.environment_diff import EnvDiff
from ..reproduce.rerun import Reproduction
from ..store.code_diff import CellChange, CodeDiff


def number(v: Any, missing: str = "-") -> str:
    """A value in a diff: floats to 6 significant digits, ``missing`` for none."""
    if isinstance(v, float):
        return f"{v:.6g}"
    return missing if v is None else str(v)


def dataset_diff_text(diff: DatasetDiff) -> str:
    a, b = diff.a, diff.b
    if diff.identical:
        return f"{a.label} and {b.label} hold the same data ({a.digest[:8]})"
    out = [f"dataset {a.label} -> {b.label}", f"  rows: {diff.rows[0]} -> {diff.rows[1]}"]
    if diff.added:
        out.append(f"  columns added: {', '.join(diff.added)}")
    if diff.removed:
        out.append(f"  columns removed: {', '.join(diff.removed)}")
    for col, (x, y) in diff.retyped.items():
        out.append(f"  {col}: dtype {x} -> {y}")
    for col, (was_required, is_required) in diff.nullability.items():
        out.append(
            f"  {col}: {'no missing' if was_required else 'has missing'} -> "
            f"{'no missing' if is_required else 'has missing'}"
        )
    if diff.changed_data:
        out.append(f"  values changed in: {', '.join(diff.changed_data)}")
    for col, stats in diff.stats.items():
        for key, (x, y) in stats.items():
            out.append(f"    {col}.{key:<6} {number(x, '—'):>14} -> {number(y, '—')}")
    return "\n".join(out)


def env_diff_text(diff: EnvDiff) -> str:
    if diff.same_hash and not diff.system and not diff.packages_differ:
        return f"environments of {diff.a} and {diff.b} are identical"
    lines = [f"environment {diff.a} -> {diff.b}"]
    for key, (x, y) in diff.system.items():
        lines.append(f"  {key:<15} {x} -> {y}")
    for key, (x, y) in diff.kernel.items():
        lines.append(f"  kernel.{key:<8} {x} -> {y}")
    if diff.changed:
        lines.append(f"  changed packages ({len(diff.changed)}):")
        lines += [f"    {n:<30} {x} -> {y}" for n, (x, y) in sorted(diff.changed.items())]
    if diff.added:
        lines.append(f"  only in {diff.b} ({len(diff.added)}):")
        lines += [f"    {n:<30} {v}" for n, v in sorted(diff.added.items())]
    if diff.removed:
        lines.append(f"  only in {diff.a} ({len(diff.removed)}):")
        lines += [f"    {n:<30} {v}" for n, v in sorted(diff.removed.items())]
    if len(lines) == 1:
        lines.append("  same interpreter and packages (only labels differ)")
    return "\n".join(lines)


def reproduction_text(result: Reproduction) -> str:
    head = f"reproduction of {result.original_run_id[:8]}: {result.verdict.upper()}"
    lines = [head, f"  reproduction run {result.run_id} ({result.seconds:.1f} s)"]
    for name, (a, b) in sorted(result.metrics.items()):
        lines.append(f"  {name:<28} {number(a):>14} -> {number(b):<14}")
    lines += [f"  - {r}" for r in result.reasons]
    lines += [f"  note: {n}" for n in result.notes]
    lines += [f"  not applied to the registry: {w}" for w in result.registry_writes]
    return "\n".join(lines)


def changed_lines(change: CellChange) -> list[str]:
    """A changed cell's unified diff; an added or removed cell's lines, signed."""
    if change.status == "changed":
        return change.lines
    sign = "+" if change.status == "added" else "-"
    source = change.b_source if change.status == "added" else change.a_source
    return [f"{sign} {line}" for line in source.splitlines()]


def code_diff_text(diff: CodeDiff) -> str:
    out = [f"code of {diff.a} ({diff.a_origin}) vs {diff.b} ({diff.b_origin}): {diff.summary()}"]
    for change in diff.cells:
        if change.status != "same":
            out.append(f"\n== cell {change.position + 1}: {change.status}")
            out.extend(changed_lines(change))
    return "\n".join(out)
