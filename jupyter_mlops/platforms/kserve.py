"""A KServe ``InferenceService`` for the model's champion (and canary), and the collector its
request logger posts to.

- The predictor serves the ``mlflow`` model format over the v2 (Open Inference) protocol, with the
  MLflow model folder of the version as ``storageUri``; KServe picks its MLServer runtime.
- The canary is KServe's own: one predictor spec whose newest revision gets
  ``canaryTrafficPercent`` of requests while the last revision rolled out to 100% keeps the rest.
  That traffic split is Knative's, so the InferenceService runs in **Serverless** mode (the
  ``serving.kserve.io/deploymentMode`` annotation says so); RawDeployment has no traffic split and
  is only allowed without a canary.
- Which version answered is in each v2 response (``model_version``, from MLServer's
  ``MLSERVER_MODEL_VERSION``), so the prediction log keeps attributing predictions to versions.
- The request logger (``logger: {mode: all, url: ...}``) posts every request and response as a
  CloudEvent to the collector (``jupyter_mlops.serving.collector``), a small Deployment running
  the packaged image, which writes them to the model's prediction log and ships it to the team
  server like a router replica: monitoring, the guard's statistics and late labels keep working.

Aliases are not followed by the cluster here: after ``promote`` or ``rollback``, run ``deploy``
again and apply the manifest (the new ``storageUri`` and weight make a new revision).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidInput
from ..settings import Settings
from .cluster import Resources, k8s_name, labels, secret_env_from
from .served import ServedModel, ServedVersion

API_VERSION = "serving.kserve.io/v1beta1"
MODES = ("serverless", "raw")
MODE_ANNOTATION = "serving.kserve.io/deploymentMode"
MODE_VALUES = {"serverless": "Serverless", "raw": "RawDeployment"}
COLLECTOR_PORT = 8080
COLLECTOR_PATH = "/"


@dataclass(frozen=True)
class KServeOptions:
    namespace: str = "default"
    mode: str = "serverless"
    image: str = ""  # the packaged router image (runs the collector)
    secret: str = "mlops-tracking"
    collector_url: str | None = None  # None: the collector deployed beside it
    service_account: str | None = None  # one that can read the storage URIs (S3 credentials)
    resources: Resources = field(default_factory=Resources)
    min_replicas: int = 1
    max_replicas: int = 5


def collector_name(model: str) -> str:
    return k8s_name(f"{model}-predlog", limit=52)


def collector_url(model: str, opts: KServeOptions) -> str:
    if opts.collector_url:
        return opts.collector_url
    return f"http://{collector_name(model)}.{opts.namespace}.svc.cluster.local{COLLECTOR_PATH}"


def _predictor(
    served: ServedModel, version: ServedVersion, weight: float | None, opts: KServeOptions
) -> dict[str, Any]:
    model_spec: dict[str, Any] = {
        "modelFormat": {"name": "mlflow"},
        "protocolVersion": "v2",
        "storageUri": version.storage_uri,
        "env": [
            {"name": "MLSERVER_MODEL_NAME", "value": served.model},
            {"name": "MLSERVER_MODEL_VERSION", "value": version.version},
        ],
        "resources": opts.resources.spec(),
    }
    predictor: dict[str, Any] = {
        "minReplicas": opts.min_replicas,
        "maxReplicas": opts.max_replicas,
        "logger": {"mode": "all", "url": collector_url(served.model, opts)},
        "model": model_spec,
    }
    if opts.service_account:
        predictor["serviceAccountName"] = opts.service_account
    if weight is not None:
        predictor["canaryTrafficPercent"] = int(round(weight))
    return predictor


def inference_service(
    served: ServedModel, opts: KServeOptions, *, champion_only: bool = False
) -> dict[str, Any]:
    """The InferenceService for the registry's state (``champion_only``: the champion alone,
    which a fresh cluster applies first so that the canary has a revision to split with)."""
    if opts.mode not in MODES:
        raise InvalidInput(f"unknown KServe mode {opts.mode!r}", hint=f"one of: {', '.join(MODES)}")
    canary = None if champion_only else served.canary
    if canary is not None and opts.mode == "raw":
        raise InvalidInput(
            f"{served.model} has a canary (v{canary.version}), and KServe splits traffic "
            "between revisions only in Serverless mode",
            hint="use --mode serverless, or deploy once the canary is promoted or rolled back",
        )
    version = canary or served.champion
    weight = served.canary_weight if canary is not None else None
    return {
        "apiVersion": API_VERSION,
        "kind": "InferenceService",
        "metadata": {
            "name": k8s_name(served.model, limit=45),
            "namespace": opts.namespace,
            "labels": labels(served.model, "inference-service"),
            "annotations": {
                MODE_ANNOTATION: MODE_VALUES[opts.mode],
                "serving.kserve.io/enable-prometheus-scraping": "true",
            },
        },
        "spec": {"predictor": _predictor(served, version, weight, opts)},
    }


def collector_manifests(served: ServedModel, opts: KServeOptions) -> list[dict[str, Any]]:
    """Deployment + Service of the prediction-log collector (none for an external URL)."""
    if opts.collector_url:
        return []
    if not opts.image:
        raise InvalidInput(
            "the collector needs the packaged image",
            hint="pass --image (see `jupyter-mlops package`)",
        )
    name = collector_name(served.model)
    selector = {
        "app.kubernetes.io/name": k8s_name(served.model),
        "app.kubernetes.io/component": "predlog",
    }
    versions = ",".join(f"{v}={a}" for v, a in sorted(served.versions.items()))
    container = {
        "name": "collector",
        "image": opts.image,
        "command": ["python", "-m", "jupyter_mlops.serving.collector"],
        "ports": [{"name": "http", "containerPort": COLLECTOR_PORT}],
        "env": [
            {"name": Settings.model.env, "value": served.model},
            {"name": Settings.versions.env, "value": versions},
            {"name": Settings.workspace.env, "value": "/var/lib/mlops"},
            {"name": "PORT", "value": str(COLLECTOR_PORT)},
        ],
        "envFrom": secret_env_from(opts.secret),
        "readinessProbe": {"httpGet": {"path": "/ping", "port": "http"}, "periodSeconds": 5},
        "livenessProbe": {"httpGet": {"path": "/ping", "port": "http"}, "periodSeconds": 10},
        "resources": {
            "requests": {"cpu": "100m", "memory": "256Mi"},
            "limits": {"memory": "512Mi"},
        },
        "volumeMounts": [{"name": "predlog", "mountPath": "/var/lib/mlops"}],
    }
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": name,
            "namespace": opts.namespace,
            "labels": labels(served.model, "predlog"),
        },
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": selector},
            "template": {
                "metadata": {"labels": {**labels(served.model, "predlog"), **selector}},
                "spec": {
                    "containers": [container],
                    "volumes": [{"name": "predlog", "emptyDir": {}}],
                    "terminationGracePeriodSeconds": 30,  # a graceful stop ships the log
                },
            },
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": name,
            "namespace": opts.namespace,
            "labels": labels(served.model, "predlog"),
        },
        "spec": {
            "selector": selector,
            "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
        },
    }
    return [deployment, service]
