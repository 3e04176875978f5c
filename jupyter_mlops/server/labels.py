"""Late labels over REST: ``POST monitor/{model}/labels`` {labels: [{request_id, label, row?}]}.

The same import as ``jupyter-mlops monitor labels MODEL FILE``: the labels are kept (and shipped
to a team server), joined to the model's prediction log by request id, and the answer says how
many met a prediction and their quality per version (``contract.LabelImport``).
"""

from __future__ import annotations

from typing import Any, cast

import tornado.web
from jupyter_server.auth.decorator import authorized

from ..errors import InvalidInput
from ..release.registered_model import check_name
from ..store.gateway import Gateway
from . import contract
from .base import MlopsHandler

MAX_LABELS_BODY = 32 * 1024 * 1024


def import_posted_labels(gw: Gateway, model: str, records: Any) -> contract.LabelImport:
    from ..monitor.label_import import (  # noqa: PLC0415 -- monitor loads numpy; the server starts without it
        import_labels,
        labels_from_records,
    )

    check_name(model)
    done = import_labels(gw, model, labels_from_records(records))
    return cast(contract.LabelImport, done.to_dict())


class LabelsHandler(MlopsHandler):
    auth_resource = "jupyter_mlops:monitor"

    @tornado.web.authenticated
    @authorized
    async def post(self, model: str) -> None:
        body = self.json_body(limit=MAX_LABELS_BODY)
        unknown = sorted(set(body) - {"labels"})
        if unknown:
            raise InvalidInput(f"unknown field {unknown[0]!r}", hint='send {"labels": [...]}')
        done = await self.call(
            import_posted_labels, self.service.gateway, model, body.get("labels")
        )
        self.reply(done, status=201)
