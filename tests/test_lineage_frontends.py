"""%mlops dataset|datasets|lineage|env and the CLI, through the real `%load_ext` path."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from IPython.core.error import UsageError

from jupyter_mlops.capture import tracker
from jupyter_mlops.cli import main
from jupyter_mlops.datasets import versions as dataset_versions
from jupyter_mlops.datasets.api import forget_described
from jupyter_mlops.store.gateway import gateway_for
from jupyter_mlops.store.runs import recent_runs


@pytest.fixture
def ip(workspace, mlops_shell):
    forget_described()
    dataset_versions.forget_known()
    return mlops_shell


def _ok(result):
    assert result.error_in_exec is None and result.error_before_exec is None, result
    return result.result


def test_tracked_cell_logs_the_frames_it_reads_and_lineage_draws_them(ip, workspace, capsys):
    (workspace.root / "data.csv").write_text("x,y\n1,0\n2,1\n3,0\n4,1\n")
    _ok(ip.run_cell("import pandas as pd\nraw = pd.read_csv('data.csv')", store_history=True))
    _ok(
        ip.run_cell(
            "%%mlops track --name fit --metrics total\ntotal = float(raw.x.sum())",
            store_history=True,
        )
    )
    tracker.shutdown_recorders()
    [run] = [r for r in recent_runs(gateway_for(workspace), limit=20) if r["name"] == "fit"]
    versions = _ok(ip.run_cell("%mlops datasets"))
    assert list(versions["ref"]) == ["raw@1"]
    graph = _ok(ip.run_cell(f"%mlops lineage {run['run_id']}"))
    assert graph.focus == f"run:{run['run_id']}"
    kinds = {n.kind for n in graph.upstream()}
    assert kinds == {"dataset", "file"}
    assert ET.fromstring(graph._repr_svg_()).tag.endswith("svg")
    # the same from the command line
    assert main(["-C", str(workspace.root), "lineage", run["run_id"]]) == 0
    out = capsys.readouterr().out
    assert "data.csv" in out and "raw@" in out
    assert main(["-C", str(workspace.root), "datasets", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed[0]["name"] == "raw" and listed[0]["source"]["file"] == "data.csv"


def test_dataset_magic_logs_and_diffs(ip, workspace):
    _ok(
        ip.run_cell("import pandas as pd\na = pd.DataFrame({'x': [1, 2, 3], 'k': ['p', 'q', 'p']})")
    )
    _ok(ip.run_cell("b = a.assign(x=[1, 2, 4], z=1.5)"))
    v1 = _ok(ip.run_cell("%mlops dataset a --name table --context training"))
    v2 = _ok(ip.run_cell("%mlops dataset b --name table"))
    assert (v1.name, v2.name) == ("table", "table") and v1.digest != v2.digest
    diff = _ok(ip.run_cell("%mlops dataset diff table@1 table@2"))
    assert diff.added == ["z"] and diff.changed_data == ["x"]
    assert "x.max" in repr(diff) and "<table>" in diff._repr_html_()
    live = _ok(ip.run_cell("%mlops dataset diff a b"))
    assert live.added == ["z"]
    with pytest.raises(UsageError, match="cannot evaluate"):
        ip.run_line_magic("mlops", "dataset undefined_name")
    with pytest.raises(UsageError, match="not tabular"):
        ip.run_line_magic("mlops", "dataset 42 --name n")
    with pytest.raises(
        UsageError, match="no dataset named .nothing., and no registered model version"
    ):
        ip.run_line_magic("mlops", "lineage nothing@1")


def test_env_diff_magic_and_bad_usage(ip, workspace):
    _ok(ip.run_cell("%%mlops track --name one\nv = 1"))
    _ok(ip.run_cell("%%mlops track --name two\nv = 2"))
    tracker.shutdown_recorders()
    names = {r["name"]: r["run_id"] for r in recent_runs(gateway_for(workspace), limit=20)}
    diff = _ok(ip.run_cell(f"%mlops env diff {names['one']} {names['two']}"))
    assert "identical" in repr(diff)
    with pytest.raises(UsageError):
        ip.run_line_magic("mlops", "env compare a b")
    with pytest.raises(UsageError, match="exclude"):
        ip.run_line_magic("mlops", f"lineage {names['one']} --up --down")
