"""The REST contract (jupyter_mlops/server/contract/): the generated files are in step with the
types, the drift check fails when they are not, and a real server's answers match the schema."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from server_support import api, jp_root_dir, jp_server_config, release_project, wait_job

from jupyter_mlops.server import contract
from jupyter_mlops.store.gateway import gateway_for

pytestmark = pytest.mark.filterwarnings("error::jupyter_server.utils.JupyterServerAuthWarning")
__all__ = ["jp_root_dir", "jp_server_config"]

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "gen_contract.py"
SCHEMA_FILE = "jupyter_mlops/server/contract.schema.json"
OPENAPI_FILE = "jupyter_mlops/server/openapi.json"
TS_FILE = "labextension/src/contract.ts"
SCHEMA = json.loads((REPO / SCHEMA_FILE).read_text())


def generate(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=120
    )


def copy_of_generated(root: Path) -> Path:
    for rel in (SCHEMA_FILE, OPENAPI_FILE, TS_FILE):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / rel, root / rel)
    return root


def test_committed_files_are_what_the_types_produce():
    done = generate("--check")
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    ("rel", "old", "new"),
    [
        (TS_FILE, "  metrics: Record<string, number>;\n", ""),
        (SCHEMA_FILE, '"type": "boolean"', '"type": "string"'),
        (OPENAPI_FILE, '"$ref": "#/components/schemas/RunsPage"', '"type": "object"'),
    ],
)
def test_check_fails_naming_the_drifted_file(tmp_path, rel, old, new):
    root = copy_of_generated(tmp_path)
    assert generate("--check", "--root", str(root)).returncode == 0
    text = (root / rel).read_text()
    assert old in text
    (root / rel).write_text(text.replace(old, new, 1))
    done = generate("--check", "--root", str(root))
    assert done.returncode == 1
    assert rel in done.stderr and "run `python scripts/gen_contract.py`" in done.stderr
    others = {SCHEMA_FILE, OPENAPI_FILE, TS_FILE} - {rel}
    assert not any(other in done.stderr for other in others), done.stderr
    # writing mends it, and the check then passes
    assert generate("--root", str(root)).returncode == 0
    assert (root / rel).read_text() == (REPO / rel).read_text()
    assert generate("--check", "--root", str(root)).returncode == 0


def test_a_typed_route_missing_from_the_document_is_named(tmp_path):
    root = copy_of_generated(tmp_path)
    document = json.loads((root / OPENAPI_FILE).read_text())
    del document["paths"]["/status"]
    (root / OPENAPI_FILE).write_text(json.dumps(document))
    done = generate("--check", "--root", str(root))
    assert done.returncode == 1
    assert "has no operation GET /status" in done.stderr and "Traceback" not in done.stderr


def test_every_route_answer_has_a_schema_and_objects_are_closed():
    defs = SCHEMA["$defs"]
    assert {t.__name__ for t in contract.RESPONSES.values()} <= set(defs)
    for name, schema in defs.items():
        if schema.get("type") == "object" and "properties" in schema:
            assert schema["additionalProperties"] is False, name


# -- real answers against the schema ---------------------------------------------------------


class ContractCheck:
    """Calls routes through ``api`` and validates each answer against its schema: a route's
    type for a success, ErrorResponse for an error."""

    def __init__(self, jp_fetch) -> None:
        self.jp_fetch = jp_fetch
        self.seen: set[str] = set()

    async def __call__(self, route: str, *path: str, **kwargs) -> tuple[int, dict]:
        code, answer = await api(self.jp_fetch, *path, **kwargs)
        kind = contract.RESPONSES[route] if code < 400 else contract.ErrorResponse
        conforms(answer, kind, f"{route} ({code})")
        if code < 400:
            self.seen.add(route)
        return code, answer


def conforms(value: object, kind: type, what: str) -> None:
    validator = Draft202012Validator({"$ref": f"#/$defs/{kind.__name__}", "$defs": SCHEMA["$defs"]})
    problems = [
        f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}"
        for e in validator.iter_errors(value)
    ]
    assert not problems, f"{what} breaks {kind.__name__}: {problems[:5]}"


async def test_runs_datasets_lineage_status_and_monitor_answers_match(jp_fetch, workspace):
    from release_support import make_data, registered

    from jupyter_mlops.datasets.api import log_dataset

    check = ContractCheck(jp_fetch)
    registered(workspace, "churn", ("good", "good"))
    code, page = await check("GET /runs", "runs", params={"limit": "1"})
    assert code == 200 and len(page["runs"]) == 1 and page["next_page_token"]
    code, page = await check("GET /runs", "runs", params={"order_by": "start_time ASC"})
    ids = [r["run_id"] for r in page["runs"]]
    assert code == 200 and len(ids) == 2
    log_dataset(make_data(50), name="customers", run=ids[0], workspace=workspace)
    code, detail = await check("GET /runs/{run_id}", "runs", ids[0])
    assert code == 200 and detail["run_id"] == ids[0]
    code, side = await check("GET /comparisons", "comparisons", params=[("run", i) for i in ids])
    assert code == 200, side
    assert code == 200 and len(side["runs"]) == 2
    code, listed = await check("GET /experiments", "experiments")
    assert code == 200 and listed["experiments"]
    code, sets = await check("GET /datasets", "datasets")
    assert code == 200 and [d["name"] for d in sets["datasets"]] == ["customers"]
    code, graph = await check("GET /lineage", "lineage", params={"node": ids[0]})
    assert code == 200 and graph["edges"]
    code, _ = await check("GET /status", "status")
    assert code == 200
    code, _ = await check("GET /outbox", "outbox")
    assert code == 200
    code, _ = await check("GET /events", "events", params={"state": "failed"})
    assert code == 200
    code, report = await check("GET /monitor/{model}", "monitor", "churn", params={"window": "1h"})
    assert code == 200 and report["model"] == "churn"
    code, _ = await check("GET /runs/{run_id}", "runs", "f" * 32)
    assert code == 404
    assert check.seen == {
        "GET /runs",
        "GET /runs/{run_id}",
        "GET /comparisons",
        "GET /experiments",
        "GET /datasets",
        "GET /lineage",
        "GET /status",
        "GET /outbox",
        "GET /events",
        "GET /monitor/{model}",
    }


async def test_release_and_monitor_answers_match(jp_fetch, workspace):
    from monitor_support import stream
    from release_support import make_data

    from jupyter_mlops.datasets.api import log_dataset
    from jupyter_mlops.monitor.predlog import PredictionLog
    from jupyter_mlops.store.client import client_for

    check = ContractCheck(jp_fetch)
    first, second = release_project(workspace)
    # the training data the monitor compares live inputs with
    log_dataset(make_data(), name="churn-train", context="training", run=first, workspace=workspace)
    code, created = await check(
        "POST /models", "models", method="POST", payload={"run_id": first, "name": "churn"}
    )
    assert code == 201 and created["version"] == "1"
    code, started = await check(
        "POST /models/{name}/versions/{version}/validations",
        *("models", "churn", "versions", "1", "validations"),
        method="POST",
        payload={"reason": "contract test"},
    )
    assert code == 202
    job_path = ("models", "churn", "versions", "1", "validations", started["job"]["id"])
    job = await wait_job(jp_fetch, *job_path)
    assert job["status"] == "succeeded", job
    conforms(job["result"], contract.ValidationVerdict, "a validation's result")
    code, _ = await check("GET /models/{name}/versions/{version}/validations/{job_id}", *job_path)
    assert code == 200
    code, _ = await check("GET /models", "models")
    assert code == 200
    code, _ = await check("GET /models/{name}/versions", "models", "churn", "versions")
    assert code == 200
    code, detail = await check(
        "GET /models/{name}/versions/{version}", "models", "churn", "versions", "1"
    )
    assert code == 200 and detail["gate_results"]
    code, _ = await check(
        "PUT /models/{name}/aliases/{alias}",
        *("models", "churn", "aliases", "champion"),
        method="PUT",
        payload={"version": "1", "reason": "contract test"},
    )
    assert code == 200
    # v2, its gates marked passed, as a canary beside the champion; both served half an hour
    code, _ = await check("POST /models", "models", method="POST", payload={"run_id": second})
    assert code == 201
    client_for(workspace).set_model_version_tag("churn", "2", "mlops.gates", "passed")
    code, _ = await check(
        "PUT /models/{name}/aliases/{alias}",
        *("models", "churn", "aliases", "canary"),
        method="PUT",
        payload={"version": "2", "weight": 20, "reason": "contract test"},
    )
    assert code == 200
    with PredictionLog(gateway_for(workspace), "churn") as log:
        for version, alias in (("1", "champion"), ("2", "canary")):
            for record in stream(120, t0=time.time() - 1800, dt=12.0, version=version, alias=alias):
                log.append(record)
    labels = [{"request_id": "r1-0", "label": 1, "row": 0}, {"request_id": "r1-1", "label": 0}]
    code, _ = await check(
        "POST /monitor/{model}/labels",
        *("monitor", "churn", "labels"),
        method="POST",
        payload={"labels": [{"label": 1}]},
    )
    assert code == 400  # no request id: the error shape is checked
    code, imported = await check(
        "POST /monitor/{model}/labels",
        *("monitor", "churn", "labels"),
        method="POST",
        payload={"labels": labels},
    )
    assert code == 201 and imported["matched"] == 2 and imported["rows"] == 2, imported
    code, report = await check("GET /monitor/{model}", "monitor", "churn", params={"window": "1h"})
    assert code == 200 and report["live_rows"] > 0 and report["drift"], report["problems"]
    assert report["quality"]["labeled"] >= 1, report["problems"]
    assert report["canary"] and report["prediction_drift"], report["problems"]
    code, _ = await check(
        "POST /models/{name}/rollbacks",
        *("models", "churn", "rollbacks"),
        method="POST",
        payload={"reason": "contract test"},
    )
    assert code == 201  # the canary is taken out of traffic
    code, history = await check("GET /models/{name}/history", "models", "churn", "history")
    assert code == 200 and history["events"]
    release_routes = {
        k
        for k in contract.RESPONSES
        if ("/models" in k or "/monitor" in k) and "/approvals" not in k  # test_server_loop_api
    }
    assert release_routes <= check.seen


PIPELINE = """\
project: contract
steps:
  quick:
    notebook: quick.ipynb
"""


async def test_pipeline_and_build_answers_match(jp_fetch, workspace):
    import nbformat

    check = ContractCheck(jp_fetch)
    (workspace.root / "mlops.yaml").write_text(PIPELINE)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(nb, workspace.root / "quick.ipynb")
    code, pipe = await check("GET /pipeline", "pipeline")
    assert code == 200 and pipe["steps"][0]["status"] == "stale"
    code, started = await check("POST /builds", "builds", method="POST", payload={})
    assert code == 202
    build = started["job"]["id"]
    code, _ = await check("GET /pipeline", "pipeline")  # with the build running (or done)
    job = await wait_job(jp_fetch, "builds", build)
    assert job["status"] == "succeeded", job
    code, done = await check("GET /builds/{job_id}", "builds", build)
    assert code == 200 and done["job"]["result"]["ok"] is True
    conforms(done["job"]["result"], contract.BuildReport, "a build's result")
    code, listed = await check("GET /builds", "builds")
    assert code == 200 and listed["builds"][0]["id"] == build
    code, pipe = await check("GET /pipeline", "pipeline")
    assert pipe["steps"][0]["status"] == "fresh" and pipe["steps"][0]["key_metric"] is None
    code, _ = await check("DELETE /builds/{job_id}", "builds", build, method="DELETE")
    assert code == 409  # a finished build cannot be cancelled: the error shape is checked
