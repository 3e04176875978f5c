"""MLflow is reached through the workspace's gateway: no module outside ``store/`` and
``journal/`` opens a client, speaks MLflow's REST protocol or touches its artifact stores.

Entities, exceptions and model flavors (``mlflow.entities``, ``mlflow.exceptions``,
``mlflow.sklearn``, ``mlflow.pyfunc``) are MLflow's data and formats, not ways to the store, and
stay allowed everywhere."""

from __future__ import annotations

import ast
from pathlib import Path

import jupyter_mlops

PACKAGE = Path(jupyter_mlops.__file__).parent
BEHIND_THE_GATEWAY = ("store", "journal")
TRANSPORT = (
    "mlflow.artifacts",
    "mlflow.client",
    "mlflow.store",
    "mlflow.tracking",
    "mlflow.utils.credentials",
    "mlflow.utils.rest_utils",
)
# A reproduction checks what the code registered in a sandbox registry of its own, never the
# workspace's store: that client is the reproduction's, not a second way to the workspace's MLflow.
ALLOWED = {("reproduce/registry_sandbox.py", "mlflow.MlflowClient")}


def _ways(tree: ast.AST) -> list[tuple[int, str]]:
    """Each import of MLflow's transport and each ``client_for`` call, with its line."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            names = ["client_for"] if name == "client_for" else []
        else:
            continue
        for name in names:
            if name == "client_for" or name == "mlflow.MlflowClient" or name.startswith(TRANSPORT):
                found.append((node.lineno, name))
                break
    return found


def _outside_the_gateway() -> list[str]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel.split("/")[0] in BEHIND_THE_GATEWAY:
            continue
        for line, name in _ways(ast.parse(path.read_text(), filename=rel)):
            if (rel, name) not in ALLOWED:
                out.append(f"{rel}:{line}: {name}")
    return out


def test_no_module_outside_the_gateway_reaches_mlflow_itself():
    assert _outside_the_gateway() == []


def test_the_scan_sees_each_way_to_mlflow():
    planted = """
from mlflow.utils.rest_utils import http_request
from mlflow import MlflowClient
import mlflow.artifacts
from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository
client = store.client.client_for(ws)
from mlflow.entities import Metric
import mlflow.pyfunc
"""
    assert [line for line, _ in _ways(ast.parse(planted))] == [2, 3, 4, 5, 6]
    assert (PACKAGE / "reproduce/registry_sandbox.py").exists()  # the exception still exists
