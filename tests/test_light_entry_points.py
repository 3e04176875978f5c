"""The entry points that must start fast load none of the heavy libraries.

pyproject.toml lists the heavy or optional libraries under ruff's `banned-module-level-imports`:
every other import sits at module top (PLC0415), so a module of this package that imported one
at its top would drag it into everything above it. Here a fresh interpreter runs each light
entry point and reports which of those libraries it loaded.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+
ROOT = Path(__file__).resolve().parents[1]


def _heavy_libraries() -> list[str]:
    conf = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    banned = conf["tool"]["ruff"]["lint"]["flake8-tidy-imports"]["banned-module-level-imports"]
    return [name for name in banned if not name.startswith("jupyter_mlops")]


ENTRY_POINTS = {
    "jupyter-mlops --help": (
        "from jupyter_mlops import cli\ntry:\n    cli.main(['--help'])\nexcept SystemExit:\n    pass"
    ),
    "%load_ext jupyter_mlops": (
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "InteractiveShell.instance().run_line_magic('load_ext', 'jupyter_mlops')"
    ),
    "papermill --engine mlops (entry point module)": "import jupyter_mlops.pipeline.engine",
    "import jupyter_mlops": "import jupyter_mlops",
}


@pytest.mark.parametrize("label", sorted(ENTRY_POINTS))
def test_a_light_entry_point_loads_no_heavy_library(label, tmp_path):
    heavy = _heavy_libraries()
    assert "mlflow" in heavy and "numpy" in heavy  # the list this test reads is the real one
    code = (
        ENTRY_POINTS[label]
        + "\nimport json, sys\n"
        + f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({heavy!r}))))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    loaded = json.loads(proc.stdout.strip().splitlines()[-1])
    assert loaded == [], f"{label} loaded {loaded}"
