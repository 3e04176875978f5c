"""What ``config`` does and prints in a terminal (declared in ``settings.py``)."""

from __future__ import annotations

import argparse
import json
import re
from typing import Any

from ..settings import INTERNAL, Resolved, Settings
from ..store.gateway import Gateway

_PASSWORD = re.compile(r"(://[^:/@]+:)[^@]*@")


def shown(value: Any) -> str:
    """A setting's value as the listing shows it: '-' for none, a URI's password masked."""
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return _PASSWORD.sub(r"\1***@", str(value))


def _row(settings: Any, found: Resolved[Any]) -> dict[str, Any]:
    setting = found.setting
    origin = found.origin
    if origin.startswith("mlops.yaml"):
        line = settings.line_of(setting)
        origin = f"{origin[:-1]}, line {line})" if line else origin
    return {
        "setting": setting.env,
        "value": shown(found.value),
        "origin": origin,
        "mlops_yaml": setting.yaml_key,
        "for": setting.audience,
        "help": setting.help,
    }


def listing(gw: Gateway, args: argparse.Namespace) -> list[dict[str, Any]]:
    """Every setting of the workspace, in declaration order; the two whose default is found
    rather than fixed (the project folder, the experiment) show what was found."""
    ws = gw.ws
    settings = ws.settings
    rows = [_row(settings, found) for found in settings.listing()]
    found = {
        Settings.workspace.env: (str(ws.root), "default (found from the current folder)"),
        Settings.experiment.env: (ws.default_experiment, "default (the project name)"),
    }
    for row in rows:
        if row["setting"] in found and row["origin"] == "default":
            row["value"], row["origin"] = found[row["setting"]]
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    """The listing as a text table: the settings a user sets, then those set for child processes."""
    ordered = [r for r in rows if r["for"] != INTERNAL] + [r for r in rows if r["for"] == INTERNAL]
    widths = [max(len(r[k]) for r in ordered) for k in ("setting", "value")]
    head = f"{'setting':<{widths[0]}}  {'value':<{widths[1]}}  from"
    lines = [head, "-" * len(head)]
    for i, r in enumerate(ordered):
        if r["for"] == INTERNAL and (i == 0 or ordered[i - 1]["for"] != INTERNAL):
            lines.append(f"# {INTERNAL} for the processes it starts:")
        lines.append(f"{r['setting']:<{widths[0]}}  {r['value']:<{widths[1]}}  {r['origin']}")
    return "\n".join(lines)


def listing_text(rows: list[dict[str, Any]], args: argparse.Namespace) -> int:
    print(json.dumps(rows, indent=1) if args.json else table(rows))
    return 0
