"""The release walk through REST: register, validate (a job), promote, roll back, history."""

from __future__ import annotations

import pytest
from server_support import (
    api,
    jp_root_dir,
    jp_server_config,
    promote_over_rest,
    release_project,
    wait_job,
)

pytestmark = pytest.mark.filterwarnings("error::jupyter_server.utils.JupyterServerAuthWarning")
__all__ = ["jp_root_dir", "jp_server_config"]


async def test_release_walk(jp_fetch, workspace):
    first, second = release_project(workspace)

    code, v1 = await api(
        jp_fetch, "models", method="POST", payload={"run_id": first, "name": "churn"}
    )
    assert code == 201, v1
    assert v1["version"] == "1" and v1["aliases"] == ["candidate"] and v1["gates"] == "pending"

    # promotion is refused while the gates have not passed, and nothing moves
    code, refused = await promote_over_rest(
        jp_fetch, "churn", "champion", {"version": "1", "reason": "first release"}
    )
    assert code == 409 and "gates" in refused["error"], refused

    code, started = await api(
        jp_fetch,
        "models",
        "churn",
        "versions",
        "1",
        "validations",
        method="POST",
        payload={"reason": "panel test"},
    )
    assert code == 202
    job = await wait_job(
        jp_fetch, "models", "churn", "versions", "1", "validations", started["job"]["id"]
    )
    assert job["status"] == "succeeded", job
    assert job["result"]["passed"] is True
    assert {r["gate"] for r in job["result"]["results"]} == {"metrics.accuracy", "size"}

    code, detail = await api(jp_fetch, "models", "churn", "versions", "1")
    assert code == 200 and detail["gates"] == "passed"
    assert {g["gate"]: g["passed"] for g in detail["gate_results"]} == {
        "metrics.accuracy": True,
        "size": True,
    }
    assert detail["gate_results"][0]["threshold"] is not None
    assert detail["card"] and "churn" in detail["card"]

    code, promoted = await promote_over_rest(
        jp_fetch, "churn", "champion", {"version": "1", "reason": "first release"}
    )
    assert code == 200 and promoted["aliases"]["champion"] == "1"

    code, v2 = await api(
        jp_fetch, "models", method="POST", payload={"run_id": second, "name": "churn"}
    )
    assert code == 201 and v2["version"] == "2"
    # a forced promotion needs a reason, like the CLI's --force --reason
    code, canary = await promote_over_rest(
        jp_fetch,
        "churn",
        "canary",
        {"version": "2", "weight": 25, "force": True, "reason": "try it on a quarter"},
    )
    assert code == 200, canary
    assert canary["aliases"]["canary"] == "2" and canary["canary_weight"] == 25

    code, versions = await api(jp_fetch, "models", "churn", "versions")
    assert code == 200
    assert [(v["version"], v["aliases"]) for v in versions["versions"]] == [
        ("2", ["canary", "candidate"]),
        ("1", ["champion"]),
    ]

    code, rolled = await api(
        jp_fetch, "models", "churn", "rollbacks", method="POST", payload={"reason": "errors up"}
    )
    assert (
        code == 201 and "canary" not in rolled["aliases"] and rolled["aliases"]["champion"] == "1"
    )

    code, history = await api(jp_fetch, "models", "churn", "history")
    actions = [(e["action"], e["version"], e["reason"]) for e in history["events"]]
    assert actions == [
        ("register", "1", None),
        ("gate", "1", "panel test"),
        ("promote", "1", "first release"),
        ("register", "2", None),
        ("promote", "2", "try it on a quarter"),
        ("rollback", "2", "errors up"),
    ]
    assert all(e["actor"] for e in history["events"])

    code, listed = await api(jp_fetch, "models")
    assert listed["models"][0]["name"] == "churn"
    assert listed["models"][0]["aliases"]["champion"] == "1"


@pytest.mark.parametrize(
    ("payload", "status", "fragment"),
    [
        ({"version": "1"}, 400, "reason"),
        ({"version": "1", "reason": "x", "weight": 150}, 400, "weight"),
        ({"version": "1", "reason": "x", "weight": "ten"}, 400, "weight"),
        ({"version": "9", "reason": "x"}, 404, "no version 9"),
        ({"version": "../1", "reason": "x"}, 400, "version"),
        ({"reason": "x"}, 400, "version"),
    ],
)
async def test_bad_promotions_change_nothing(jp_fetch, workspace, payload, status, fragment):
    from release_support import registered

    from jupyter_mlops.release.rollout import state
    from jupyter_mlops.store.gateway import gateway_for

    registered(workspace, "churn", ("good",))
    before = state(gateway_for(workspace), "churn").aliases
    code, answer = await promote_over_rest(jp_fetch, "churn", "canary", payload)
    assert code == status, answer
    assert fragment in answer["error"]
    assert state(gateway_for(workspace), "churn").aliases == before


@pytest.mark.parametrize(
    ("method", "path", "payload", "status"),
    [
        ("GET", ("models", "nope", "versions"), None, 404),
        ("GET", ("models", "churn", "versions", "7"), None, 404),
        ("GET", ("models", "churn", "versions", "x1"), None, 400),
        ("GET", ("models", "churn", "history"), None, 200),
        ("POST", ("models",), {"run_id": "0" * 32}, 404),
        ("POST", ("models",), {"run_id": "bad id!"}, 400),
        ("POST", ("models",), {"name": "churn"}, 400),
        ("POST", ("models", "churn", "versions", "5", "validations"), {}, 404),
        ("POST", ("models", "churn", "rollbacks"), {}, 400),
        ("POST", ("models", "churn", "rollbacks"), {"reason": "no previous"}, 404),
        ("PUT", ("models", "churn", "aliases", "prod"), {"version": "1", "reason": "r"}, 400),
        ("GET", ("models", "churn", "versions", "1", "validations", "feedbeef"), None, 404),
    ],
)
async def test_model_routes_answer_clear_errors(jp_fetch, workspace, method, path, payload, status):
    from release_support import registered

    registered(workspace, "churn", ("good",))
    code, answer = await api(jp_fetch, *path, method=method, payload=payload)
    assert code == status, answer
    if status >= 400:
        assert set(answer) == {"error", "hint"} and answer["error"]


async def test_body_must_be_a_json_object(jp_fetch, workspace):
    from tornado.httpclient import HTTPClientError

    for raw in ("not json", "[1, 2]", '"text"'):
        with pytest.raises(HTTPClientError) as err:
            await jp_fetch("jupyter-mlops", "api", "models", method="POST", body=raw)
        assert err.value.code == 400
