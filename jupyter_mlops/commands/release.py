"""``jupyter-mlops register|validate|card|package|promote|rollback|history|serve``."""

from __future__ import annotations

import argparse
import json


def _ws(args: argparse.Namespace):
    from ..cli import workspace_from

    return workspace_from(args)


def _register(args: argparse.Namespace) -> int:
    from ..release.registry import register

    mv = register(_ws(args), args.run, args.name, model_name=args.model, reason=args.reason)
    print(f"registered {mv.name} v{mv.version} from run {mv.run_id} (alias: candidate)")
    print(f"next: jupyter-mlops validate {mv.name} {mv.version}")
    return 0


def _validate(args: argparse.Namespace) -> int:
    from ..release.validation import validate

    report = validate(_ws(args), args.model, args.version, reason=args.reason)
    print(report.text())
    return 0 if report.passed else 5


def _card(args: argparse.Namespace) -> int:
    from ..release.card import write_card
    from ..release.registry import resolve

    ws = _ws(args)
    mv = resolve(ws, args.model, args.version)
    card = write_card(ws, mv.name, mv.version, out_dir=args.out)
    print(card.markdown if args.print else f"model card of {mv.name} v{mv.version}: {card.md_path}")
    return 0


def _package(args: argparse.Namespace) -> int:
    from ..release.package import package

    out = package(_ws(args), args.model, args.version, args.out, force=args.force)
    print(f"packaged {args.model} v{args.version} into {out}")
    print(f"  docker build -t {args.model.lower()}:{args.version} {out}")
    return 0


def _promote(args: argparse.Namespace) -> int:
    from ..release.rollout import promote

    st = promote(
        _ws(args),
        args.model,
        args.version,
        args.to,
        weight=args.weight,
        force=args.force,
        reason=args.reason,
        shadow=args.shadow,
    )
    print(st.describe())
    return 0


def _rollback(args: argparse.Namespace) -> int:
    from ..release.rollout import rollback

    print(rollback(_ws(args), args.model, reason=args.reason, target=args.target).describe())
    return 0


def _history(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from ..release.history import events, format_history
    from ..release.rollout import state

    ws = _ws(args)
    evts = events(ws, args.model)
    if args.json:
        print(json.dumps([asdict(e) for e in evts], indent=1))
        return 0
    print(state(ws, args.model).describe())
    print(format_history(evts))
    return 0


def _serve(args: argparse.Namespace) -> int:
    from ..release.registry import get_registered_model
    from ..serving.server import serve

    get_registered_model(_ws(args), args.model)  # refuse an unknown model before saying "serving"
    print(
        f"serving {args.model} on http://{args.host}:{args.port} (champion + canary; Ctrl-C stops)"
    )
    serve(
        _ws(args),
        args.model,
        host=args.host,
        port=args.port,
        max_body=int(args.max_body_mb * 1024 * 1024),
        poll_interval=args.poll,
        guard=args.guard,
        sticky_header=args.sticky_header or None,
    )
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("register", help="register a run's model as a new version (alias candidate)")
    p.add_argument("run", help="run id, id prefix, run key or run name")
    p.add_argument("--name", help="registered model name (default: release.model in mlops.yaml)")
    p.add_argument("--model", help="which logged model of the run, when it has several")
    p.add_argument("--reason", help="recorded in the release history")
    p.set_defaults(func=_register)

    p = sub.add_parser("validate", help="run the release gates of mlops.yaml on a version")
    p.add_argument("model")
    p.add_argument("version", help="version number or alias")
    p.add_argument("--reason")
    p.set_defaults(func=_validate)

    p = sub.add_parser("card", help="write (and show) a version's model card")
    p.add_argument("model", help="MODEL, MODEL@ALIAS or MODEL/VERSION")
    p.add_argument("version", nargs="?")
    p.add_argument("--out", help="also write the card files into this folder")
    p.add_argument("--print", action="store_true", help="print the Markdown card")
    p.set_defaults(func=_card)

    p = sub.add_parser(
        "package", help="write a self-contained MLflow model folder with a Dockerfile"
    )
    p.add_argument("model")
    p.add_argument("version")
    p.add_argument("--out", required=True, metavar="DIR")
    p.add_argument("--force", action="store_true", help="overwrite a non-empty DIR")
    p.set_defaults(func=_package)

    p = sub.add_parser("promote", help="move a version to staging, canary or champion")
    p.add_argument("model")
    p.add_argument("version")
    p.add_argument("--to", required=True, choices=["staging", "canary", "champion"])
    p.add_argument("--weight", type=float, metavar="PCT", help="canary share of traffic, 0-100")
    p.add_argument(
        "--shadow",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="the canary scores its share of traffic but never answers (--no-shadow: it answers)",
    )
    p.add_argument(
        "--force", action="store_true", help="promote despite failed gates (needs --reason)"
    )
    p.add_argument("--reason")
    p.set_defaults(func=_promote)

    p = sub.add_parser("rollback", help="drop the canary, or restore the previous champion")
    p.add_argument("model")
    p.add_argument("--reason")
    p.add_argument("--target", choices=["auto", "canary", "champion"], default="auto")
    p.set_defaults(func=_rollback)

    p = sub.add_parser("history", help="the release audit trail of a model: who, when, what, why")
    p.add_argument("model")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_history)

    p = sub.add_parser("serve", help="serve a model's champion and canary over HTTP")
    p.add_argument("model")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=5001)
    p.add_argument("--max-body-mb", type=float, default=16.0)
    p.add_argument("--poll", type=float, default=0.25, help="registry poll interval in seconds")
    p.add_argument(
        "--guard",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="run the canary guard: roll back a canary worse than the champion "
        "(default: monitor.canary.guard in mlops.yaml)",
    )
    p.add_argument(
        "--sticky-header",
        default="x-request-key",
        metavar="NAME",
        help="requests carrying this header always reach the same version ('' turns it off)",
    )
    p.set_defaults(func=_serve)
