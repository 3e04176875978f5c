"""`export --target argo|kfp`: the example project compiled with the real SDKs (hera, the kfp
compiler), offline; the graphs have the steps and edges of `jupyter-mlops steps`, sweeps fan
out one task per trial, and the loop's schedule is exported too."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml
from platform_support import documents, example_copy, steps_graph

from jupyter_mlops.errors import InvalidInput
from jupyter_mlops.platforms.export import export
from jupyter_mlops.platforms.workflow import ExportOptions, Pipeline
from jupyter_mlops.workspace import Workspace

OPTIONS = ExportOptions(image="registry.example/bc:7", namespace="ml", secret="team-mlflow")
TRAIN_TRIALS = [f"train-trial-{n}" for n in range(4)]  # the example's grid: C in 4 values


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return example_copy(tmp_path_factory.mktemp("export") / "project")


def argo_dag(template: dict) -> dict[str, list[str]]:
    """Task -> the tasks it waits for (hera writes Argo's ``depends`` expressions)."""
    return {
        t["name"]: [d.strip() for d in t["depends"].split("&&")] if t.get("depends") else []
        for t in template["dag"]["tasks"]
    }


def folded_edges(tasks: dict[str, list[str]], pipeline: Pipeline) -> set[tuple[str, str]]:
    """Task-level dependencies read back from a compiled file, trials folded into their step."""
    step_of = {t.name: t.step for t in pipeline.tasks}
    return {
        (step_of[dep], step_of[name])
        for name, deps in tasks.items()
        for dep in deps
        if step_of[dep] and step_of[name] and step_of[dep] != step_of[name]
    }


def test_argo_workflow_and_cron_workflow_through_hera(project, tmp_path):
    from hera.workflows import CronWorkflow, Workflow

    result = export(Workspace.find(project), "argo", tmp_path, OPTIONS)
    steps, edges = steps_graph(project)
    assert steps == ["prepare", "train", "evaluate"]
    (wf,) = documents(tmp_path / "workflow.yaml")
    assert wf["kind"] == "Workflow" and wf["metadata"]["generateName"] == "breast-cancer-demo-"
    Workflow.from_dict(wf)  # hera reads it back into Argo's models
    templates = {t["name"]: t for t in wf["spec"]["templates"]}
    dag = argo_dag(templates["pipeline"])
    assert list(dag) == ["prepare", *TRAIN_TRIALS, "train", "evaluate"]
    assert sorted(dag["train"]) == TRAIN_TRIALS  # the trials run in parallel, then the step
    assert all(dag[t] == ["prepare"] for t in TRAIN_TRIALS)
    assert folded_edges(dag, result.pipelines[0]) == edges == result.pipelines[0].step_edges()
    trial = templates["train-trial-2"]["container"]
    assert trial["image"] == "registry.example/bc:7"
    assert trial["command"] == ["jupyter-mlops"]
    assert trial["args"] == ["-C", "/project", "build", "--only", "train", "--trial", "2"]
    assert trial["envFrom"] == [{"secretRef": {"name": "team-mlflow"}}]
    assert templates["evaluate"]["container"]["args"][-2:] == ["--only", "evaluate"]

    (cron,) = documents(tmp_path / "cron-nightly.yaml")
    CronWorkflow.from_dict(cron)
    assert cron["kind"] == "CronWorkflow" and cron["metadata"]["namespace"] == "ml"
    assert cron["spec"]["schedules"] == ["0 3 * * *"]
    assert cron["spec"]["timezone"] == "Europe/Paris"
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    tasks = cron["spec"]["workflowSpec"]["templates"]
    cycle = next(t for t in tasks if t["name"] == "release-cycle")
    assert cycle["container"]["args"] == ["-C", "/project", "loop", "run", "--trigger", "nightly"]
    cron_dag = argo_dag(next(t for t in tasks if t["name"] == "pipeline"))
    assert cron_dag["release-cycle"] == ["evaluate"]
    # only schedules export: a watch trigger needs `loop serve`
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cron-nightly.yaml", "workflow.yaml"]
    assert "the loop triggers on-data need a process watching them" in result.text()


def test_kfp_pipeline_through_the_kfp_compiler(project, tmp_path):
    from kfp import components

    result = export(Workspace.find(project), "kfp", tmp_path, OPTIONS)
    _, edges = steps_graph(project)
    spec, platform = documents(tmp_path / "pipeline.yaml")
    components.load_component_from_file(str(tmp_path / "pipeline.yaml"))  # kfp reads it back
    assert spec["pipelineInfo"]["name"] == "breast-cancer-demo"
    tasks = spec["root"]["dag"]["tasks"]
    dag = {name: t.get("dependentTasks", []) for name, t in tasks.items()}
    assert set(dag) == {"prepare", *TRAIN_TRIALS, "train", "evaluate"}
    assert folded_edges(dag, result.pipelines[0]) == edges
    assert all(
        t["cachingOptions"] == {} or not t["cachingOptions"].get("enableCache")
        for t in tasks.values()
    )
    executor = spec["deploymentSpec"]["executors"]["exec-train-trial-1"]["container"]
    assert executor["image"] == "registry.example/bc:7"
    assert executor["args"] == ["-C", "/project", "build", "--only", "train", "--trial", "1"]
    secrets = platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]["exec-train"]
    uri, creds = secrets["secretAsEnv"]
    assert uri["secretName"] == "team-mlflow" and not uri["optional"]
    assert [k["envVar"] for k in uri["keyToEnv"]] == ["MLFLOW_TRACKING_URI"]
    assert creds["optional"] and "MLFLOW_TRACKING_PASSWORD" in [
        k["envVar"] for k in creds["keyToEnv"]
    ]
    scheduled = documents(tmp_path / "pipeline-nightly.yaml")[0]
    assert scheduled["root"]["dag"]["tasks"]["release-cycle"]["dependentTasks"] == ["evaluate"]
    (run,) = json.loads((tmp_path / "recurring-runs.json").read_text())
    assert run["timezone"] == "Europe/Paris"
    assert run["arguments"] == {
        "job_name": "breast-cancer-demo-nightly",
        "cron_expression": "0 0 3 * * *",  # KFP's cron starts with seconds
        "max_concurrency": 1,
        "no_catchup": True,
        "pipeline_package_path": "pipeline-nightly.yaml",
    }


def test_an_optuna_sweep_stays_one_task_and_bad_requests_are_clear(tmp_path):
    project = example_copy(tmp_path / "p", loop=False)
    text = (project / "mlops.yaml").read_text()
    text = text.replace(
        "method: grid            # or random / optuna (with trials: N)",
        "method: optuna\n      trials: 6",
    )
    text = text.replace("C: [0.01, 0.1, 1.0, 10.0]", "C: {low: 0.01, high: 10.0, log: true}")
    (project / "mlops.yaml").write_text(text)
    ws = Workspace.find(project)
    result = export(ws, "argo", tmp_path / "o", OPTIONS)
    assert [t.name for t in result.pipelines[0].tasks] == ["prepare", "train", "evaluate"]
    with pytest.raises(InvalidInput, match="--image is needed"):
        export(ws, "argo", tmp_path / "o", ExportOptions())
    with pytest.raises(InvalidInput, match="not a Kubernetes Secret name"):
        export(ws, "kfp", tmp_path / "o", ExportOptions(image="x", secret="Not_OK"))
    with pytest.raises(InvalidInput, match="project's store"):
        export(ws, "argo", project / ".mlops" / "x", OPTIONS)
    proc = subprocess.run(
        [sys.executable, "-m", "jupyter_mlops.cli", "-C", str(project), "export", "--target",
         "argo", "--out", str(tmp_path / "cli"), "--image", "bc:1"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert "3 steps as 3 tasks" in proc.stdout
    wf = yaml.safe_load((tmp_path / "cli" / "workflow.yaml").read_text())
    assert wf["spec"]["templates"][0]["container"]["image"] == "bc:1"
