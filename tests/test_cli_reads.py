"""``runs`` and ``show`` read the embedded store without MLflow, and never guess a run silently."""

from __future__ import annotations

import subprocess
import sys

import pytest

from jupyter_mlops import cli
from jupyter_mlops.capture import tracker
from jupyter_mlops.errors import InvalidInput, NotFound
from jupyter_mlops.store import embedded_read
from jupyter_mlops.store.gateway import gateway_for
from jupyter_mlops.store.run_details import run_detail_from_mlflow
from jupyter_mlops.store.runs import get_run, run_summary, search


def _track(ws, name, metrics=None, params=None, fail=False):
    try:
        with tracker.track(name=name, workspace=ws) as run:
            if params:
                run.log_params(params)
            for value in metrics or []:
                run.log_metrics({"acc": value})
            if fail:
                raise ValueError("the data was bad")
    except ValueError:
        pass
    run.wait_synced()
    return run.run_id


@pytest.fixture
def three_runs(workspace):
    ids = [
        _track(workspace, "fit", [0.5, 0.6], {"C": 1}),
        _track(workspace, "fit", [0.9], {"C": 2}),
        _track(workspace, "broken", fail=True),
    ]
    tracker.shutdown_recorders()
    return ids


def _imports_mlflow(args: list[str], cwd) -> bool:
    code = (
        "import sys\nfrom jupyter_mlops import cli\n"
        f"rc = cli.main({args!r})\n"
        "print('MLFLOW' if 'mlflow' in sys.modules else 'LEAN', rc)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True)
    return out.stdout.split()[0] == "MLFLOW"


def test_runs_and_show_do_not_import_mlflow(workspace, three_runs):
    assert not _imports_mlflow(["runs"], workspace.root)
    assert not _imports_mlflow(["show", three_runs[0]], workspace.root)
    assert not _imports_mlflow(["runs", "--sort", "acc"], workspace.root)


def _db(ws):
    """The embedded store's file, as the gateway hands it to the direct reader."""
    db = gateway_for(ws).embedded_db()
    assert db is not None
    return db


def test_the_embedded_reader_answers_what_mlflow_answers(workspace, three_runs):
    found, _ = search(gateway_for(workspace), limit=10)
    assert embedded_read.list_runs(_db(workspace), limit=10) == [run_summary(r) for r in found]
    by_metric, _ = search(gateway_for(workspace), limit=10, order_by=["metrics.`acc` DESC"])
    fast = embedded_read.list_runs(_db(workspace), limit=10, sort="acc")
    assert [r["run_id"] for r in fast] == [r.info.run_id for r in by_metric]
    for run_id in three_runs:
        assert embedded_read.run_detail(_db(workspace), run_id) == run_detail_from_mlflow(
            gateway_for(workspace), run_id
        )


def test_a_name_several_runs_share_is_ambiguous_with_their_ids(workspace, three_runs):
    for read in (
        lambda ref: embedded_read.run_detail(_db(workspace), ref),
        lambda ref: get_run(gateway_for(workspace), ref),
    ):
        with pytest.raises(InvalidInput, match="ambiguous: 2 runs named 'fit'") as info:
            read("fit")
        assert three_runs[0][:12] in str(info.value) and three_runs[1][:12] in str(info.value)


def test_an_id_prefix_under_six_characters_is_too_short(workspace, three_runs):
    prefix = three_runs[2][:1]
    for read in (
        lambda ref: embedded_read.run_detail(_db(workspace), ref),
        lambda ref: get_run(gateway_for(workspace), ref),
    ):
        with pytest.raises(InvalidInput, match="too short"):
            read(prefix)
    assert embedded_read.run_detail(_db(workspace), three_runs[2][:8])["run_id"] == three_runs[2]
    assert get_run(gateway_for(workspace), three_runs[2][:8]).info.run_id == three_runs[2]
    with pytest.raises(NotFound):
        embedded_read.run_detail(_db(workspace), "zzzzzzzz")


def test_sorting_by_a_metric_no_run_has_is_refused_with_the_closest(workspace, three_runs):
    with pytest.raises(InvalidInput, match="did you mean 'acc'"):
        embedded_read.list_runs(_db(workspace), sort="acx")
    with pytest.raises(InvalidInput, match="did you mean 'acc'"):
        search(gateway_for(workspace), order_by=["metrics.`acx` DESC"])


def test_show_of_a_failed_run_prints_its_error(workspace, three_runs, capsys):
    assert cli.main(["show", three_runs[2]]) == 0
    out = capsys.readouterr().out
    assert "[FAILED]" in out
    assert "error: ValueError: the data was bad" in out
