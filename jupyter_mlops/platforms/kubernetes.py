"""The packaged router (``jupyter-mlops package``'s image) as plain Kubernetes objects: a
Deployment, its Service, a HorizontalPodAutoscaler and a PodDisruptionBudget.

Every replica is a fleet router (``serving/entrypoint.py`` with ``MLFLOW_TRACKING_URI`` from the
Secret): it polls the registry's aliases every 0.25 s and serves the champion and canary split
itself, ships its prediction log to the team server, and one replica at a time may run the canary
guard (a lease). So promote, rollback and the guard act on the cluster within a second, with no
redeploy; ``deploy`` is re-run only to change the image, replicas or resources.

Probes: readiness on ``/ping`` (200 once a champion is loaded: no traffic before), liveness on
``/live`` (the process answers; a model server waiting for its first champion is not restarted).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..settings import Settings
from .cluster import Resources, k8s_name, labels, secret_env_from

PORT = 8080


@dataclass(frozen=True)
class RouterOptions:
    namespace: str = "default"
    image: str = ""
    secret: str = "mlops-tracking"
    replicas: int = 2
    max_replicas: int = 10
    cpu_target: int = 70  # percent of the CPU request, for the autoscaler
    guard: bool = False  # monitor.canary.guard
    resources: Resources = field(default_factory=Resources)


def router_name(model: str) -> str:
    return k8s_name(f"{model}-router", limit=52)


def _selector(model: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": k8s_name(model), "app.kubernetes.io/component": "router"}


def _container(model: str, opts: RouterOptions) -> dict[str, Any]:
    return {
        "name": "router",
        "image": opts.image,
        "ports": [{"name": "http", "containerPort": PORT}],
        "env": [
            {"name": Settings.model.env, "value": model},
            {"name": Settings.guard.env, "value": "true" if opts.guard else "false"},
            {"name": Settings.workspace.env, "value": "/var/lib/mlops"},
            # the replica's name in shipped prediction logs
            {
                "name": Settings.replica.env,
                "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}},
            },
            {"name": "PORT", "value": str(PORT)},
        ],
        "envFrom": secret_env_from(opts.secret),
        "readinessProbe": {
            "httpGet": {"path": "/ping", "port": "http"},
            "periodSeconds": 5,
            "failureThreshold": 2,
        },
        "livenessProbe": {
            "httpGet": {"path": "/live", "port": "http"},
            "initialDelaySeconds": 10,
            "periodSeconds": 10,
            "failureThreshold": 3,
        },
        "resources": opts.resources.spec(),
        # the image runs as `nobody`; a numeric user lets the kubelet check runAsNonRoot
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": 65534,
            "allowPrivilegeEscalation": False,
        },
        "volumeMounts": [{"name": "state", "mountPath": "/var/lib/mlops"}],
    }


def router_manifests(model: str, opts: RouterOptions) -> list[dict[str, Any]]:
    name, ns, selector = router_name(model), opts.namespace, _selector(model)
    meta = {"name": name, "namespace": ns, "labels": labels(model, "router")}
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta,
        "spec": {
            "replicas": opts.replicas,
            "selector": {"matchLabels": selector},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0}},
            "template": {
                "metadata": {
                    "labels": {**labels(model, "router"), **selector},
                    "annotations": {
                        "prometheus.io/scrape": "true",
                        "prometheus.io/port": str(PORT),
                        "prometheus.io/path": "/metrics",
                    },
                },
                "spec": {
                    "containers": [_container(model, opts)],
                    "volumes": [{"name": "state", "emptyDir": {}}],
                    # SIGTERM: uvicorn drains, the prediction log ships what it holds
                    "terminationGracePeriodSeconds": 30,
                },
            },
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta,
        "spec": {
            "selector": selector,
            "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
        },
    }
    hpa = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": meta,
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
            "minReplicas": opts.replicas,
            "maxReplicas": max(opts.max_replicas, opts.replicas),
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": opts.cpu_target},
                    },
                }
            ],
        },
    }
    pdb = {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": meta,
        "spec": {"minAvailable": 1, "selector": {"matchLabels": selector}},
    }
    return [deployment, service, hpa, pdb]
