"""A registered model by name: the name's rules, the tags its versions carry and the one read
every release module starts from.

Below ``registry`` and ``history`` both, so the release history (and the gates) can read a
model's tags without importing the registry that writes them.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..errors import InvalidInput
from ..tags import GATE_RUN_ID_TAG, GATES_TAG, MODEL_ID_TAG, RUN_ID_TAG

if TYPE_CHECKING:
    from mlflow.entities.model_registry import RegisteredModel

    from ..store.gateway import Gateway

T_RUN, T_MODEL_ID, T_GATES, T_GATE_RUN = (
    RUN_ID_TAG,
    MODEL_ID_TAG,
    GATES_TAG,
    GATE_RUN_ID_TAG,
)

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def check_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidInput(
            f"{name!r} is not a valid model name",
            hint="use letters, digits, '.', '_' and '-' (at most 128 characters)",
        )
    return name


def get_registered_model(gw: Gateway, name: str) -> RegisteredModel:
    """The registered model ``name``, its name checked first (NotFound when there is none)."""
    return gw.registered_model(check_name(name))
