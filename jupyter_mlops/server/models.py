"""Registered models, their versions, aliases, gate results, cards and release actions.

``GET models``, ``POST models`` {run_id, name} (register a run's model);
``GET models/{name}/versions``, ``GET models/{name}/versions/{v}`` (aliases, gates, card);
``POST models/{name}/versions/{v}/validations`` (run the gates: 202 + a job),
``GET models/{name}/versions/{v}/validations/{job}``;
``PUT models/{name}/aliases/{alias}`` {version, weight, reason, force} (promote);
``POST models/{name}/rollbacks`` {reason, target}; ``GET models/{name}/history``.

Every release action records who (the Jupyter user) and why (the reason typed in the panel's
confirmation) in the model's release history, through the domain functions.
"""

from __future__ import annotations

from typing import Any, cast

import tornado.web
from jupyter_server.auth.decorator import authorized

from ..errors import InvalidInput
from ..release.registration import get_version, register
from ..release.rollout import promote, rollback
from ..release.validation import validate
from ..store.gateway import Gateway
from . import contract, queries
from .base import MlopsHandler
from .jobs import Job


def _register(
    gw: Gateway, run_id: str, name: str | None, reason: str | None, actor: str | None
) -> contract.VersionDetail:
    mv = register(gw, run_id, name, actor=actor, reason=reason)
    return queries.version(gw, mv.name, str(mv.version))


def _validate(
    gw: Gateway, name: str, version: str, reason: str | None, actor: str | None, job: Job
) -> contract.ValidationVerdict:
    job.add_line(f"validating {name} v{version}")
    report = validate(gw, name, version, reason=reason, actor=actor)
    for line in report.text().splitlines():
        job.add_line(line)
    return {
        "model": name,
        "version": version,
        "passed": report.passed,
        "failed": [r.gate for r in report.failed],
        "run_id": report.run_id,
        "results": [cast(contract.GateResultDetail, r.to_dict()) for r in report.results],
    }


def _check_version(gw: Gateway, name: str, version: str) -> None:
    get_version(gw, name, version)


def _promote(
    gw: Gateway, name: str, alias: str, body: dict[str, Any], actor: str | None
) -> contract.RolloutState:
    st = promote(
        gw,
        name,
        body["version"],
        alias,
        weight=body.get("weight"),
        force=body["force"],
        reason=body["reason"],
        actor=actor,
    )
    return {"model": name, "aliases": st.aliases, "canary_weight": st.canary_weight}


def _rollback(
    gw: Gateway, name: str, reason: str, target: str, actor: str | None
) -> contract.RolloutState:
    st = rollback(gw, name, reason=reason, actor=actor, target=target)
    return {"model": name, "aliases": st.aliases, "canary_weight": st.canary_weight}


class ModelsHandler(MlopsHandler):
    auth_resource = "jupyter_mlops:models"

    @tornado.web.authenticated
    @authorized
    async def get(self) -> None:
        found = await self.read(queries.models, self.service.gateway, empty=[])
        body: contract.ModelList = {"models": found}
        self.reply(body)

    @tornado.web.authenticated
    @authorized
    async def post(self) -> None:
        body = self.json_body()
        run_id = self.text_field(body, "run_id", required=True, limit=64)
        name = self.text_field(body, "name", limit=128)
        reason = self.text_field(body, "reason")
        gw = self.service.gateway
        created = await self.call(_register, gw, run_id, name, reason, self.actor)
        self.set_header("Location", f"models/{created['name']}/versions/{created['version']}")
        self.reply(created, status=201)


class ModelVersionsHandler(MlopsHandler):
    auth_resource = "jupyter_mlops:models"

    @tornado.web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        self.reply(await self.read(queries.versions, self.service.gateway, name))


class ModelVersionHandler(MlopsHandler):
    auth_resource = "jupyter_mlops:models"

    @tornado.web.authenticated
    @authorized
    async def get(self, name: str, version: str) -> None:
        self.reply(await self.read(queries.version, self.service.gateway, name, version))


class ValidationsHandler(MlopsHandler):
    auth_resource = "jupyter_mlops:models"

    @tornado.web.authenticated
    @authorized
    async def post(self, name: str, version: str) -> None:
        self.require_execute()
        body = self.json_body()
        reason = self.text_field(body, "reason")
        gw = self.service.gateway
        await self.read(_check_version, gw, name, version)
        actor = self.actor
        job = self.service.jobs.submit(
            "validation",
            f"validate {name} v{version}",
            lambda job: _validate(gw, name, version, reason, actor, job),
            owner=actor,
        )
        self.set_header("Location", f"models/{name}/versions/{version}/validations/{job.id}")
        answer: contract.JobResponse = {"job": job.to_dict()}
        self.reply(answer, status=202)


class ValidationHandler(MlopsHandler):
    auth_resource = "jupyter_mlops:models"

    @tornado.web.authenticated
    @authorized
    async def get(self, name: str, version: str, job_id: str) -> None:
        job = self.service.jobs.get(job_id, "validation")
        if job.title != f"validate {name} v{version}":
            raise InvalidInput(f"job {job_id} does not validate {name} v{version}")
        answer: contract.JobResponse = {"job": job.to_dict()}
        self.reply(answer)


class AliasHandler(MlopsHandler):
    auth_resource = "jupyter_mlops:models"

    @tornado.web.authenticated
    @authorized
    async def put(self, name: str, alias: str) -> None:
        body = self.json_body()
        version = body.get("version")
        if isinstance(version, bool) or not isinstance(version, (str, int)):
            raise InvalidInput("version is required", hint='send {"version": "3", ...}')
        force = body.get("force", False)
        if not isinstance(force, bool):
            raise InvalidInput("force must be true or false")
        weight = body.get("weight")
        if weight is not None and (
            isinstance(weight, bool) or not isinstance(weight, (int, float))
        ):
            raise InvalidInput(f"weight must be a number between 0 and 100, got {weight!r}")
        clean = {
            "version": str(version),
            "weight": weight,
            "force": force,
            "reason": self.text_field(body, "reason", required=True),
        }
        gw = self.service.gateway
        self.reply(await self.read(_promote, gw, name, alias, clean, self.actor))


class RollbacksHandler(MlopsHandler):
    auth_resource = "jupyter_mlops:models"

    @tornado.web.authenticated
    @authorized
    async def post(self, name: str) -> None:
        body = self.json_body()
        reason = self.text_field(body, "reason", required=True)
        target = self.text_field(body, "target", limit=20) or "auto"
        gw = self.service.gateway
        self.reply(await self.read(_rollback, gw, name, reason, target, self.actor), status=201)


class HistoryHandler(MlopsHandler):
    auth_resource = "jupyter_mlops:models"

    @tornado.web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        events = await self.read(queries.history, self.service.gateway, name)
        answer: contract.ReleaseHistory = {"model": name, "events": events}
        self.reply(answer)
