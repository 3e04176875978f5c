"""How the terminal runs a declared command: the workspace from the global options and its
gateway to MLflow, then the domain call and its terminal view (or the command's own terminal
flow)."""

from __future__ import annotations

import argparse
import os

from .. import journal  # noqa: F401 -- registers the read barrier: queries see queued writes
from ..errors import NotFound
from ..store.gateway import Gateway, gateway_for
from ..store.reachability import check_tracking_uri
from ..workspace import Workspace
from .declaration import Command, arg, load

# the CLI's global options that say which project (and store) a command works on
WORKSPACE_OPTIONS = (
    arg(
        "--workspace",
        "-C",
        metavar="DIR",
        help="project folder (default: found from the current folder)",
    ),
    arg(
        "--tracking-uri",
        metavar="URI",
        help="MLflow tracking URI (default: the embedded store in .mlops/)",
    ),
)


def workspace_from(args: argparse.Namespace) -> Workspace:
    """The workspace named by ``WORKSPACE_OPTIONS``, else found from the current folder. A
    missing folder is refused, never created."""
    folder = getattr(args, "workspace", None)
    if folder is not None and not os.path.isdir(folder):
        raise NotFound(f"-C {folder}: no such folder", hint="give an existing project folder")
    uri = getattr(args, "tracking_uri", None)
    if uri is not None:
        check_tracking_uri(uri)
    return Workspace.find(folder, tracking_uri=uri)


def gateway_from(args: argparse.Namespace) -> Gateway:
    """The gateway to MLflow of the workspace ``WORKSPACE_OPTIONS`` name: what domain calls get."""
    return gateway_for(workspace_from(args))


def run_in_terminal(command: Command, args: argparse.Namespace) -> int:
    """Run ``command`` for the CLI; its exit code."""
    if command.terminal is not None:
        code: int = load(command.terminal)(args)
        return code
    assert command.call is not None and command.show is not None
    result = load(command.call)(gateway_from(args), args)
    shown: int = load(command.show)(result, args)
    return shown
