"""``approve|reject|request-approval MODEL VERSION`` and ``approvals MODEL`` (both front ends):
named approvals for the aliases ``release.approvals`` protects. What they do and print is in
``approvals_calls.py``, the notebook views in ``notebook/approval_views.py``, imported when one
runs."""

from __future__ import annotations

from .declaration import Command, arg

CALLS = "jupyter_mlops.commands.approvals_calls"
VIEWS = "jupyter_mlops.notebook.approval_views"


def _decision(name: str, verb: str) -> Command:
    return Command(
        name,
        f"{verb} a version for a protected alias (recorded with your identity)",
        (
            arg("model"),
            arg("version"),
            arg("--to", default="champion", choices=["staging", "canary", "champion"]),
            arg("--comment", help="recorded in the release history"),
        ),
        call=f"{CALLS}:{name}",
        show=f"{CALLS}:decided_text",
        view=f"{VIEWS}:approval",
    )


APPROVE = _decision("approve", "approve")
REJECT = _decision("reject", "reject")

REQUEST = Command(
    "request-approval",
    "ask the approvers of a protected alias to approve a version",
    (
        arg("model"),
        arg("version"),
        arg("--to", default="champion", choices=["staging", "canary", "champion"]),
        arg("--comment", help="what the approvers should know"),
    ),
    call=f"{CALLS}:request",
    show=f"{CALLS}:requested_text",
    view=f"{VIEWS}:approval",
)

APPROVALS = Command(
    "approvals",
    "a model's approvals: those waiting for a decision (--all: every one)",
    (arg("model"), arg("--all", action="store_true", help="decided ones too")),
    call=f"{CALLS}:listed",
    show=f"{CALLS}:listed_text",
    view=f"{VIEWS}:approvals",
)

COMMANDS = (APPROVE, REJECT, REQUEST, APPROVALS)
