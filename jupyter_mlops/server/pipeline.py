"""The pipeline of mlops.yaml and its builds.

``GET pipeline`` (steps with cache status: fresh or stale, and why); ``POST builds`` {steps,
force} (202 + the build job); ``GET builds`` (recent builds); ``GET builds/{id}`` (progress and
each step's log); ``DELETE builds/{id}`` (cancel: the build is interrupted like Ctrl-C, its runs
marked KILLED).
"""

from __future__ import annotations

import tornado.web
from jupyter_server.auth.decorator import authorized

from ..errors import InvalidInput
from . import contract, queries
from .base import MlopsHandler
from .build_job import build_in_child


class PipelineHandler(MlopsHandler):
    auth_resource = "jupyter_mlops:pipeline"

    @tornado.web.authenticated
    @authorized
    async def get(self) -> None:
        body = await self.call(queries.pipeline, self.service.workspace)
        active = [j for j in self.service.jobs.list("build") if j.active]
        body["build"] = active[0].to_dict(with_log=False) if active else None
        self.reply(body)


class BuildsHandler(MlopsHandler):
    auth_resource = "jupyter_mlops:pipeline"

    @tornado.web.authenticated
    @authorized
    async def get(self) -> None:
        jobs = self.service.jobs.list("build")
        answer: contract.BuildList = {"builds": [j.to_dict(with_log=False) for j in jobs]}
        self.reply(answer)

    @tornado.web.authenticated
    @authorized
    async def post(self) -> None:
        self.require_execute()
        body = self.json_body()
        force = body.get("force", False)
        if not isinstance(force, bool):
            raise InvalidInput("force must be true or false")
        ws = self.service.workspace
        steps = await self.call(queries.check_steps, ws, body.get("steps"))
        root = str(ws.root)
        title = (
            "build " + (" ".join(steps) if steps else "all steps") + (" (forced)" if force else "")
        )
        job = self.service.jobs.submit(
            "build",
            title,
            lambda job: build_in_child(job, root, steps, force),
            owner=self.actor,
            exclusive=True,
        )
        self.set_header("Location", f"builds/{job.id}")
        answer: contract.JobResponse = {"job": job.to_dict()}
        self.reply(answer, status=202)


class BuildHandler(MlopsHandler):
    auth_resource = "jupyter_mlops:pipeline"

    @tornado.web.authenticated
    @authorized
    async def get(self, job_id: str) -> None:
        answer: contract.JobResponse = {"job": self.service.jobs.get(job_id, "build").to_dict()}
        self.reply(answer)

    @tornado.web.authenticated
    @authorized
    async def delete(self, job_id: str) -> None:
        job = self.service.jobs.cancel(job_id, "build")
        answer: contract.JobResponse = {"job": job.to_dict()}
        self.reply(answer, status=202)
