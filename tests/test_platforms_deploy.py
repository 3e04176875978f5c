"""`deploy`: manifests a cluster applies as they are, checked offline against the official
schemas (kubernetes-validate for the core kinds, KServe's own SDK models for the
InferenceService), with the values that matter asserted."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from platform_support import by_kind, documents, run_side
from release_support import registered

from jupyter_mlops.errors import InvalidInput, NotFound
from jupyter_mlops.platforms.deploy import DeployRequest, deploy
from jupyter_mlops.release import rollout
from jupyter_mlops.release.registration import get_version
from jupyter_mlops.store.gateway import gateway_for

K8S_VERSION = "1.33.0"
POLICY = "project: deploy-test\nrelease:\n  model: churn\n  rollout: {canary_weight: 20}\n"


def validate_core(doc: dict) -> None:
    """Raises kubernetes_validate's ValidationError for anything the official schema refuses."""
    kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


@pytest.fixture
def churn(workspace):
    """churn v1 champion and v2 canary at the release policy's weight (20%)."""
    (workspace.root / "mlops.yaml").write_text(POLICY)
    registered(workspace)
    rollout.promote(gateway_for(workspace), "churn", 1, "champion")
    rollout.promote(gateway_for(workspace), "churn", 2, "canary")
    return workspace


def _relative_source(ws, version: int) -> str:
    source = Path(get_version(gateway_for(ws), "churn", version).source.removeprefix("file://"))
    return source.resolve().relative_to(ws.artifacts_dir.resolve()).as_posix()


def test_kserve_inference_service_serves_champion_and_canary(churn, tmp_path):
    out = tmp_path / "kserve"
    result = deploy(
        gateway_for(churn),
        DeployRequest(
            "churn", "kserve", out, namespace="ml", artifact_root="s3://models/mlartifacts/",
            image="registry.example/churn:2",
        ),
    )  # fmt: skip
    assert not result.follows_aliases
    isvc = documents(out / "inferenceservice.yaml")[0]
    assert isvc["apiVersion"] == "serving.kserve.io/v1beta1"
    assert isvc["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] == "Serverless"
    predictor = isvc["spec"]["predictor"]
    model = predictor["model"]
    assert model["modelFormat"] == {"name": "mlflow"}
    assert model["protocolVersion"] == "v2"
    # the canary's files, on the object store behind the tracking server
    assert model["storageUri"] == f"s3://models/mlartifacts/{_relative_source(churn, 2)}"
    assert predictor["canaryTrafficPercent"] == 20  # release.rollout.canary_weight
    assert {"name": "MLSERVER_MODEL_VERSION", "value": "2"} in model["env"]
    assert model["resources"]["requests"] == {"cpu": "500m", "memory": "1Gi"}
    assert predictor["logger"] == {
        "mode": "all",
        "url": "http://churn-predlog.ml.svc.cluster.local/",
    }
    # a fresh cluster rolls the champion out first, at 100%
    boot = documents(out / "bootstrap" / "inferenceservice-champion.yaml")[0]
    assert boot["spec"]["predictor"]["model"]["storageUri"].endswith(_relative_source(churn, 1))
    assert "canaryTrafficPercent" not in boot["spec"]["predictor"]

    collector = by_kind(documents(out / "predlog-collector.yaml"))
    for doc in collector.values():
        validate_core(doc)
    container = collector["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "registry.example/churn:2"
    assert container["command"] == ["python", "-m", "jupyter_mlops.serving.collector"]
    assert {"name": "MLOPS_VERSIONS", "value": "1=champion,2=canary"} in container["env"]
    assert container["envFrom"] == [{"secretRef": {"name": "mlops-tracking"}}]
    assert collector["Service"]["metadata"]["name"] == "churn-predlog"
    assert collector["Service"]["metadata"]["namespace"] == "ml"

    # KServe's own models accept both InferenceServices ...
    files = [
        str(out / "inferenceservice.yaml"),
        str(out / "bootstrap/inferenceservice-champion.yaml"),
    ]
    assert run_side("kserve", "kserve_check.py", *files) == {"checked": 2, "errors": []}
    # ... and refuse a misspelled field and a wrong type, by path
    broken = copy.deepcopy(isvc)
    broken["spec"]["predictor"]["canaryTraficPercent"] = 10
    broken["spec"]["predictor"]["minReplicas"] = "one"
    (tmp_path / "broken.yaml").write_text(yaml.safe_dump(broken))
    answer = run_side("kserve", "kserve_check.py", str(tmp_path / "broken.yaml"))
    assert answer["checked"] == 1
    assert any("predictor.canaryTraficPercent: not a field" in e for e in answer["errors"])
    assert any("predictor.minReplicas: expected int" in e for e in answer["errors"])


def test_kserve_follows_promote_and_rollback_only_when_deployed_again(churn, tmp_path):
    gw, out = gateway_for(churn), tmp_path / "m"
    request = DeployRequest("churn", "kserve", out, artifact_root="pvc://models", image="c:1")
    with pytest.raises(InvalidInput, match="Serverless"):
        deploy(gw, DeployRequest("churn", "kserve", out, mode="raw", artifact_root="pvc://m"))
    rollout.rollback(gateway_for(churn), "churn", reason="canary dropped")
    deploy(gw, request)
    predictor = documents(out / "inferenceservice.yaml")[0]["spec"]["predictor"]
    assert predictor["model"]["storageUri"] == f"pvc://models/{_relative_source(churn, 1)}"
    assert "canaryTrafficPercent" not in predictor
    assert not (out / "bootstrap" / "inferenceservice-champion.yaml").exists()
    raw = DeployRequest("churn", "kserve", tmp_path / "raw", mode="raw", artifact_root="pvc://m")
    raw_isvc = documents(Path(deploy(gw, raw).files[0]))[0]
    assert (
        raw_isvc["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] == "RawDeployment"
    )


def test_models_reachable_only_here_need_an_artifact_root(churn, tmp_path):
    gw = gateway_for(churn)
    with pytest.raises(InvalidInput, match="--artifact-root") as err:
        deploy(gw, DeployRequest("churn", "kserve", tmp_path / "k"))
    assert "not from a cluster" in err.value.message
    with pytest.raises(InvalidInput, match="not a URI a cluster"):
        deploy(gw, DeployRequest("churn", "kserve", tmp_path / "k", artifact_root="/srv"))
    with pytest.raises(NotFound, match="no champion"):
        registered(churn, name="fresh", kinds=("good",))
        deploy(gw, DeployRequest("fresh", "kubernetes", tmp_path / "k"))


def test_kubernetes_router_follows_aliases_with_probes_hpa_pdb_and_secret(churn, tmp_path):
    out = tmp_path / "k8s"
    result = deploy(gateway_for(churn), DeployRequest("churn", "kubernetes", out, replicas=3))
    assert result.follows_aliases
    docs = documents(out / "router.yaml")
    assert [d["kind"] for d in docs] == [
        "Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget",
    ]  # fmt: skip
    for doc in docs:
        validate_core(doc)
    kinds = by_kind(docs)
    pod = kinds["Deployment"]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["image"] == "churn:1"  # what `package` names the champion's image
    assert container["readinessProbe"]["httpGet"] == {"path": "/ping", "port": "http"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/live", "port": "http"}
    assert container["resources"]["requests"] == {"cpu": "500m", "memory": "1Gi"}
    assert container["envFrom"] == [{"secretRef": {"name": "mlops-tracking"}}]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["MLOPS_MODEL"] == "churn"
    assert not [name for name in env if name.startswith("MLFLOW_")]  # only from the Secret
    assert kinds["HorizontalPodAutoscaler"]["spec"]["minReplicas"] == 3
    assert kinds["HorizontalPodAutoscaler"]["spec"]["scaleTargetRef"]["name"] == "churn-router"
    assert kinds["PodDisruptionBudget"]["spec"]["minAvailable"] == 1
    selector = kinds["Deployment"]["spec"]["selector"]["matchLabels"]
    assert kinds["Service"]["spec"]["selector"] == selector
    assert kinds["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"] == selector
    # the schema check is real: a wrong type is refused
    bad = copy.deepcopy(kinds["Deployment"])
    bad["spec"]["replicas"] = "three"
    with pytest.raises(kubernetes_validate.ValidationError):
        validate_core(bad)
    text = (out / "router.yaml").read_text()
    assert churn.tracking_uri not in text  # nothing of the store is inlined


def test_the_router_answers_its_liveness_probe_before_a_champion(workspace):
    from jupyter_mlops.serving.server import BackgroundServer

    registered(workspace, kinds=("good",))  # no champion: not ready, but alive
    import urllib.error
    import urllib.request

    with BackgroundServer(gateway_for(workspace), "churn") as srv:
        assert urllib.request.urlopen(f"{srv.url}/live", timeout=10).status == 200
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(f"{srv.url}/ping", timeout=10)
        assert err.value.code == 503


def test_deploy_from_the_command_line(churn, tmp_path):
    out = tmp_path / "cli"
    proc = subprocess.run(
        [sys.executable, "-m", "jupyter_mlops.cli", "deploy", "churn", "--target", "kubernetes",
         "--out", str(out), "--secret", "team-mlflow"],
        capture_output=True, text=True, cwd=churn.root, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "follow the aliases" in proc.stdout
    assert proc.stderr == ""
    container = by_kind(documents(out / "router.yaml"))["Deployment"]["spec"]["template"]["spec"][
        "containers"
    ][0]
    assert container["envFrom"] == [{"secretRef": {"name": "team-mlflow"}}]
    bad = subprocess.run(
        [sys.executable, "-m", "jupyter_mlops.cli", "deploy", "churn", "--target", "kubernetes",
         "--out", str(out), "--secret", "Bad_Name"],
        capture_output=True, text=True, cwd=churn.root, timeout=120,
    )  # fmt: skip
    assert bad.returncode == 2
    assert "not a Kubernetes Secret name" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_storage_uris_of_a_team_server_map_onto_its_object_store(workspace):
    from jupyter_mlops.platforms.served import storage_uri

    gw = gateway_for(workspace)
    proxied = "mlflow-artifacts:/3/models/m-abc/artifacts"
    assert storage_uri(gw, proxied, "s3://bucket/mlartifacts/") == (
        "s3://bucket/mlartifacts/3/models/m-abc/artifacts"
    )
    with_host = "mlflow-artifacts://mlflow.example.org:5000/3/models/m-abc/artifacts"
    assert storage_uri(gw, with_host, "gs://b") == "gs://b/3/models/m-abc/artifacts"
    # a server whose artifact root is an object store already: used as it is
    assert storage_uri(gw, "s3://other/1/m/artifacts", None) == "s3://other/1/m/artifacts"
    with pytest.raises(InvalidInput, match="tracking server's proxy"):
        storage_uri(gw, proxied, None)
    with pytest.raises(InvalidInput, match="not in this workspace's store"):
        storage_uri(gw, "file:///etc/models", "s3://b")


@pytest.mark.parametrize("store", ["team"], indirect=True)
def test_kserve_on_a_team_server_reads_the_object_store_behind_it(workspace, tmp_path):
    (workspace.root / "mlops.yaml").write_text(POLICY)
    registered(workspace, kinds=("good",))
    rollout.promote(gateway_for(workspace), "churn", 1, "champion")
    source = get_version(gateway_for(workspace), "churn", 1).source
    assert source.startswith("mlflow-artifacts:")  # proxied by the server
    out = tmp_path / "team"
    deploy(gateway_for(workspace), DeployRequest("churn", "kserve", out, artifact_root="s3://b/ml"))
    model = documents(out / "inferenceservice.yaml")[0]["spec"]["predictor"]["model"]
    path = source.split(":", 1)[1].lstrip("/")
    if source.startswith("mlflow-artifacts://"):
        path = path.split("/", 1)[1]
    assert model["storageUri"] == f"s3://b/ml/{path}"


def test_a_served_version_whose_files_changed_is_never_deployed(workspace, tmp_path):
    from test_model_signing import _keys

    from jupyter_mlops.errors import IntegrityError
    from jupyter_mlops.release.registration import version_location
    from jupyter_mlops.workspace import Workspace

    _keys(workspace.root / "keys")
    (workspace.root / "mlops.yaml").write_text(POLICY + "  signing: {key: keys/release.pem}\n")
    ws = Workspace.find(workspace.root)
    registered(ws, kinds=("good",))
    rollout.promote(gateway_for(ws), "churn", 1, "champion")
    out = tmp_path / "signed"
    assert deploy(gateway_for(ws), DeployRequest("churn", "kubernetes", out)).files
    pickle = (
        version_location(gateway_for(ws), get_version(gateway_for(ws), "churn", 1)).local_path
        / "model.pkl"
    )
    pickle.write_bytes(pickle.read_bytes() + b"\0")
    with pytest.raises(IntegrityError, match="model.pkl"):
        deploy(gateway_for(ws), DeployRequest("churn", "kubernetes", tmp_path / "again"))
    assert not (tmp_path / "again").exists()
