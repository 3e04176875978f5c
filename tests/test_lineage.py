"""Lineage queries on a real store: files -> datasets -> runs -> models -> registered versions."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest

from jupyter_mlops.datasets import versions as dataset_versions
from jupyter_mlops.datasets.api import forget_described, log_dataset
from jupyter_mlops.datasets.cell_inputs import describe, frames_read_by
from jupyter_mlops.errors import NotFound
from jupyter_mlops.lineage.query import lineage
from jupyter_mlops.store.client import client_for, experiment_id
from jupyter_mlops.store.gateway import gateway_for


@pytest.fixture
def project(workspace):
    """train.csv -> dataset 'df' -> training run -> logged model -> clf v1; plus an eval run."""
    forget_described()
    dataset_versions.forget_known()
    client = client_for(workspace)
    (workspace.root / "data").mkdir()
    frame = pd.DataFrame({"x": np.arange(20.0), "y": np.arange(20) % 2})
    frame.to_csv(workspace.root / "data" / "train.csv", index=False)
    ns: dict = {}
    exec("import pandas as pd\ndf = pd.read_csv('data/train.csv')", ns)
    ((name, df),) = frames_read_by("df = pd.read_csv('data/train.csv')", ns)
    item = describe(df, name, "training")
    exp = experiment_id(workspace)
    train = client.create_run(exp, run_name="train-cell", tags={"mlops.kind": "cell"})
    log_dataset(df, name="df", context="training", run=train.info.run_id, workspace=workspace)
    model = client.create_logged_model(exp, name="clf_model", source_run_id=train.info.run_id)
    client.create_registered_model("clf")
    client.create_model_version(
        "clf", source=model.artifact_location, run_id=train.info.run_id, model_id=model.model_id
    )
    client.set_registered_model_alias("clf", "champion", "1")
    evaluate = client.create_run(exp, run_name="eval-cell", tags={"mlops.kind": "cell"})
    log_dataset(df, name="df", context="evaluation", run=evaluate.info.run_id, workspace=workspace)
    other = client.create_run(exp, run_name="unrelated")
    log_dataset(
        frame.assign(x=frame.x + 1), name="other", run=other.info.run_id, workspace=workspace
    )
    return {
        "digest": item.digest,
        "train": train.info.run_id,
        "eval": evaluate.info.run_id,
        "other": other.info.run_id,
        "model": model.model_id,
    }


def _ids(nodes) -> set[str]:
    return {n.id for n in nodes}


def test_what_produced_this_model_version(workspace, project):
    g = lineage(gateway_for(workspace), "models:/clf/1")
    up = _ids(g.upstream())
    assert f"model:{project['model']}" in up
    assert f"run:{project['train']}" in up
    assert f"dataset:{project['digest']}" in up
    assert any(n.kind == "file" and n.label == "data/train.csv" for n in g.upstream())
    assert f"run:{project['eval']}" not in up and f"run:{project['other']}" not in _ids(
        g.nodes.values()
    )
    alias = lineage(gateway_for(workspace), "clf@champion")
    assert alias.focus == "model_version:clf/1"


def test_what_used_this_dataset_version(workspace, project):
    g = lineage(gateway_for(workspace), "df@1", direction="down")
    down = _ids(g.downstream())
    assert {f"run:{project['train']}", f"run:{project['eval']}"} <= down
    assert f"model:{project['model']}" in down and "model_version:clf/1" in down
    assert f"run:{project['other']}" not in down
    relations = {(a.split(":")[0], r) for a, _, r in g.edges}
    assert ("dataset", "training") in relations and ("dataset", "evaluation") in relations
    assert not g.upstream()  # direction="down" only


def test_from_a_file_to_the_registered_version(workspace, project):
    g = lineage(gateway_for(workspace), "file:data/train.csv")
    assert g.nodes[g.focus].kind == "file"
    assert "model_version:clf/1" in _ids(g.downstream())
    by_digest = lineage(gateway_for(workspace), project["digest"][:10])
    assert by_digest.focus == f"dataset:{project['digest']}"
    by_run = lineage(gateway_for(workspace), project["train"])
    assert by_run.focus == f"run:{project['train']}"


def test_text_and_picture(workspace, project):
    g = lineage(gateway_for(workspace), "models:/clf/1")
    text = g.to_text()
    assert "lineage of registered version clf v1" in text
    assert "data/train.csv" in text and "train-cell" in text
    svg = ET.fromstring(g._repr_svg_())
    labels = [t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")]
    assert "clf v1" in labels and "data/train.csv" in labels
    assert len(list(svg.iter("{http://www.w3.org/2000/svg}path"))) >= len(g.edges)
    assert g.to_dict()["focus"] == "model_version:clf/1"


def test_unknown_references_are_reported(workspace, project):
    with pytest.raises(NotFound):
        lineage(gateway_for(workspace), "models:/clf/9")
    with pytest.raises(NotFound):
        lineage(gateway_for(workspace), "m-doesnotexist")
    with pytest.raises(NotFound):
        lineage(gateway_for(workspace), "no-such-thing")
