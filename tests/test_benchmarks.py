"""``make bench`` runs every ``benchmarks/bench_*.py --quick``: each must accept it, and print its
figures and nothing else (no MLflow INFO lines, no warnings)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
SCRIPTS = sorted(BENCHMARKS.glob("bench_*.py"))


def test_every_benchmark_is_found():
    assert len(SCRIPTS) >= 13


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_each_benchmark_parses_quick(script):
    out = subprocess.run(
        [sys.executable, str(script), "--help"], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "--quick" in out.stdout
    assert out.stderr == ""


def test_a_quick_benchmark_prints_only_its_figures(tmp_path):
    """The journal benchmark's quick mode takes seconds; its output is its table alone."""
    out = subprocess.run(
        [sys.executable, str(BENCHMARKS / "bench_journal_sync.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stderr == ""
    lines = out.stdout.strip().splitlines()
    assert lines and not any(w in out.stdout for w in ("INFO", "WARNING", "Warning"))
