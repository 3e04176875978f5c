"""Environment diff and cell-by-cell code diff between two recorded runs."""

from __future__ import annotations

import json

import pytest

from jupyter_mlops.commands.texts import code_diff_text, env_diff_text
from jupyter_mlops.errors import NotFound
from jupyter_mlops.notebook.result_views import code_diff_html
from jupyter_mlops.reproduce.environment_diff import env_diff_runs
from jupyter_mlops.store.client import client_for, experiment_id
from jupyter_mlops.store.code_diff import code_diff, diff_cells
from jupyter_mlops.store.gateway import gateway_for

ENV = {
    "python": "3.11.9",
    "implementation": "CPython",
    "platform": "Linux-6.1-x86_64",
    "machine": "x86_64",
    "cpu_count": 2,
    "memory_bytes": 24 * 2**30,
    "kernel": {"executable": "python", "kernel_name": "python3"},
    "distributions": {"numpy": "2.4.0", "pandas": "3.1.1", "scikit-learn": "1.9.0"},
    "git": {"sha": "abc", "branch": "main", "dirty": False, "remote": ""},
    "hash": "h1",
}


def _run(ws, name: str, env: dict | None = None, notebook: list[str] | None = None) -> str:
    client = client_for(ws)
    run = client.create_run(experiment_id(ws), run_name=name, tags={"mlops.kind": "cell"})
    rid = run.info.run_id
    if env is not None:
        client.log_text(rid, json.dumps(env), "mlops/environment.json")
    if notebook is not None:
        cells = [
            {"index": i, "execution_count": i + 1, "source": s} for i, s in enumerate(notebook)
        ]
        client.log_text(
            rid, json.dumps({"path": "nb.ipynb", "cells": cells}), "mlops/notebook.json"
        )
    client.set_terminated(rid)
    return rid


def test_env_diff_names_changed_added_and_removed_packages(workspace):
    other = json.loads(json.dumps(ENV))
    other["distributions"] = {"numpy": "2.5.0", "pandas": "3.1.1", "xxhash": "3.5.0"}
    other["cpu_count"], other["hash"] = 8, "h2"
    diff = env_diff_runs(
        gateway_for(workspace), _run(workspace, "a", ENV), _run(workspace, "b", other)
    )
    assert diff.changed == {"numpy": ("2.4.0", "2.5.0")}
    assert diff.added == {"xxhash": "3.5.0"} and diff.removed == {"scikit-learn": "1.9.0"}
    assert diff.system == {"cpu_count": (2, 8)}
    text = env_diff_text(diff)
    assert "numpy" in text and "2.4.0 -> 2.5.0" in text and "only in a" in text
    assert diff.results_may_differ
    same = env_diff_runs(
        gateway_for(workspace), _run(workspace, "c", ENV), _run(workspace, "d", ENV)
    )
    assert "identical" in env_diff_text(same) and not same.results_may_differ
    with pytest.raises(NotFound, match="no environment"):
        env_diff_runs(gateway_for(workspace), _run(workspace, "e"), _run(workspace, "f", ENV))


def test_code_diff_aligns_cells_and_shows_line_changes(workspace):
    before = [
        "import pandas as pd",
        "df = pd.read_csv('a.csv')",
        "lr = 0.1\nfit(df, lr)",
        "report()",
    ]
    after = [
        "import pandas as pd",
        "df = pd.read_csv('a.csv')",
        "df = df.dropna()",
        "lr = 0.2\nfit(df, lr)",
        "report()",
    ]
    diff = code_diff(
        gateway_for(workspace),
        _run(workspace, "v1", notebook=before),
        _run(workspace, "v2", notebook=after),
    )
    statuses = [c.status for c in diff.cells]
    assert statuses.count("same") == 3 and "added" in statuses and "changed" in statuses
    text = code_diff_text(diff)
    assert "-lr = 0.1" in text and "+lr = 0.2" in text and "+ df = df.dropna()" in text
    assert "report()" not in text  # unchanged cells are not repeated
    assert "<pre" in code_diff_html(diff)
    assert diff_cells(["a"], ["a"])[0].status == "same"
    with pytest.raises(NotFound, match="no code"):
        code_diff(
            gateway_for(workspace),
            _run(workspace, "nocode"),
            _run(workspace, "v3", notebook=before),
        )
