"""``approve|reject|request-approval MODEL VERSION`` and ``approvals MODEL`` (both front ends):
named approvals for the aliases ``release.approvals`` protects. What they do and print is in
``approvals_calls.py``, the notebook views in ``notebook/approval_views.py``, imported when one
runs."""

from __future__ import annotations

from types import ModuleType

from .declaration import Command, Handler, arg


def calls() -> ModuleType:
    """What these commands do and print (``approvals_calls.py``), imported when one runs."""
    from . import approvals_calls  # noqa: PLC0415 -- --help and %load_ext import no handler

    return approvals_calls


def _decision(name: str, verb: str, call: Handler) -> Command:
    return Command(
        name,
        f"{verb} a version for a protected alias (recorded with your identity)",
        (
            arg("model"),
            arg("version"),
            arg("--to", default="champion", choices=["staging", "canary", "champion"]),
            arg("--comment", help="recorded in the release history"),
        ),
        call=call,
        show=lambda: calls().decided_text,
    )


APPROVE = _decision("approve", "approve", lambda: calls().approve)
REJECT = _decision("reject", "reject", lambda: calls().reject)

REQUEST = Command(
    "request-approval",
    "ask the approvers of a protected alias to approve a version",
    (
        arg("model"),
        arg("version"),
        arg("--to", default="champion", choices=["staging", "canary", "champion"]),
        arg("--comment", help="what the approvers should know"),
    ),
    call=lambda: calls().request,
    show=lambda: calls().requested_text,
)

APPROVALS = Command(
    "approvals",
    "a model's approvals: those waiting for a decision (--all: every one)",
    (arg("model"), arg("--all", action="store_true", help="decided ones too")),
    call=lambda: calls().listed,
    show=lambda: calls().listed_text,
)

COMMANDS = (APPROVE, REJECT, REQUEST, APPROVALS)
