"""What the platform tests share: the side virtualenvs (Airflow, KServe's SDK) built by the
Makefile, run as subprocesses, and reading generated YAML."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TESTS = Path(__file__).resolve().parent


def side_python(name: str) -> Path:
    """The interpreter of ``.venv-<name>`` (``make side-venvs`` builds it; ``make test`` does)."""
    override = os.environ.get(f"MLOPS_{name.upper()}_PYTHON")
    python = Path(override) if override else ROOT / f".venv-{name}" / "bin" / "python"
    assert python.exists(), f"{python} is missing: run `make side-venvs` (make test does)"
    return python


def run_side(
    name: str, script: str, *args: str, timeout: float = 300, env: dict[str, str] | None = None
) -> dict[str, Any]:
    """Run ``tests/<script>`` in ``.venv-<name>``; its JSON answer (last line of stdout)."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "MLOPS_"))},
        **(env or {}),
    }
    proc = subprocess.run(
        [str(side_python(name)), str(TESTS / script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )
    lines = proc.stdout.strip().splitlines()
    assert lines, f"{script} printed nothing (exit {proc.returncode}): {proc.stderr[-3000:]}"
    return json.loads(lines[-1])


def documents(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def by_kind(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {d["kind"]: d for d in docs}


def steps_graph(project: Path) -> tuple[list[str], set[tuple[str, str]]]:
    """Steps and (needed, step) edges as `jupyter-mlops steps` prints them."""
    proc = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "jupyter-mlops"), "-C", str(project), "steps"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    steps, edges = [], set()
    for line in proc.stdout.splitlines():
        name, _, rest = line.partition(":")
        steps.append(name)
        if "  needs " in rest:
            needs = rest.split("  needs ", 1)[1].split("  sweep ")[0]
            edges |= {(need.strip(), name) for need in needs.split(",")}
    return steps, edges


EXAMPLE = ROOT / "example_notebooks"
LOOP = """
loop:
  triggers:
    nightly: {schedule: "0 3 * * *", timezone: Europe/Paris}
    on-data: {watch: [data/raw.csv]}
  cycle: {steps: [train, evaluate]}
"""


def example_copy(folder: Path, loop: bool = True) -> Path:
    """The example project (notebooks and mlops.yaml, nothing built), with a loop schedule."""
    import shutil

    # what a build or a JupyterLab session leaves in a checkout is not part of the example
    ignored = shutil.ignore_patterns(".mlops", "output", "data", "reports", ".ipynb_checkpoints")
    shutil.copytree(EXAMPLE, folder, ignore=ignored)
    if loop:  # the example's own loop section gives way to one with a timezone and a watch
        spec = folder / "mlops.yaml"
        spec.write_text(_without_section(spec.read_text(), "loop") + LOOP)
    return folder


def _without_section(text: str, key: str) -> str:
    """``text`` without its top-level ``key:`` section (up to the next top-level key)."""
    kept, skipping = [], False
    for line in text.splitlines(keepends=True):
        if line[:1].strip() and not line.startswith("#"):
            skipping = line.startswith(f"{key}:")
        if not skipping:
            kept.append(line)
    return "".join(kept)
