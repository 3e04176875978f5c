"""`export --target airflow`: the DAG file loads in a real Airflow 3 DagBag (in .venv-airflow,
whose pins are not ours) with no import errors, with the steps and edges of `jupyter-mlops
steps`, the loop's schedule, and every pod running the CLI with the tracking Secret."""

from __future__ import annotations

from platform_support import example_copy, run_side, steps_graph

from jupyter_mlops.platforms.export import export
from jupyter_mlops.platforms.workflow import ExportOptions
from jupyter_mlops.workspace import Workspace


def test_the_exported_dags_load_in_a_dagbag(tmp_path):
    project = example_copy(tmp_path / "project")
    options = ExportOptions(image="registry.example/bc:7", secret="team-mlflow")
    result = export(Workspace.find(project), "airflow", tmp_path / "out", options)
    (dag_file,) = result.files
    answer = run_side(
        "airflow",
        "airflow_check.py",
        str(dag_file.parent),
        env={"AIRFLOW_HOME": str(tmp_path / "airflow-home")},
    )
    assert answer["import_errors"] == {}
    dags = answer["dags"]
    assert sorted(dags) == ["breast_cancer_demo", "breast_cancer_demo_nightly"]
    manual, nightly = dags["breast_cancer_demo"], dags["breast_cancer_demo_nightly"]
    assert manual["schedule"] is None
    assert (nightly["schedule"], nightly["timezone"]) == ("0 3 * * *", "Europe/Paris")
    _, edges = steps_graph(project)
    step_of = {t.name: t.step for t in result.pipelines[0].tasks}
    loaded = {
        (step_of[up], step_of[name])
        for name, task in manual["tasks"].items()
        for up in task["upstream"]
        if step_of[up] != step_of[name]
    }
    assert loaded == edges
    trial = manual["tasks"]["train-trial-3"]
    assert trial["upstream"] == ["prepare"]
    assert trial["image"] == "registry.example/bc:7" and trial["cmds"] == ["jupyter-mlops"]
    assert trial["arguments"] == ["-C", "/project", "build", "--only", "train", "--trial", "3"]
    assert trial["secrets"] == ["team-mlflow"]
    assert sorted(manual["tasks"]["train"]["upstream"]) == [f"train-trial-{n}" for n in range(4)]
    assert nightly["tasks"]["release-cycle"]["upstream"] == ["evaluate"]
    assert nightly["tasks"]["release-cycle"]["arguments"][-3:] == ["run", "--trigger", "nightly"]
