"""``GET openapi.json``: the OpenAPI document of these routes, which is also their reference.

The document is a plain JSON file beside this module (``openapi.json``). Its paths, parameters
and error answers are written by hand; its ``components.schemas`` and each route's success
answer are generated from the REST contract (``contract/``) by ``scripts/gen_contract.py``.
A test checks that every route and method registered in ``ROUTES`` is in it, so adding a route
means adding its ``paths`` entry there (path parameters as ``{name}``, in the order of the
route's groups), its answer's type to ``contract.RESPONSES``, and running the script.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import tornado.web
from jupyter_server.auth.decorator import authorized

from .base import MlopsHandler

DOCUMENT_PATH = Path(__file__).with_name("openapi.json")


@cache
def openapi_document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(DOCUMENT_PATH.read_text(encoding="utf-8"))
    return document


class OpenApiHandler(MlopsHandler):
    auth_resource = "jupyter_mlops:api"

    @tornado.web.authenticated
    @authorized
    async def get(self) -> None:
        self.reply(openapi_document())
