"""What ``register|validate|card|promote|rollback|history``, ``package`` and ``serve`` do and
print in a terminal (declared in ``release.py``)."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from typing import Any

from ..release import card as cards
from ..release import history as release_history
from ..release import package as packaging
from ..release import registration, rollout, signing, validation
from ..serving import server
from ..store.gateway import Gateway
from .terminal import gateway_from


def register(gw: Gateway, args: argparse.Namespace) -> Any:
    return registration.register(gw, args.run, args.name, model_name=args.model, reason=args.reason)


def registered_text(mv: Any, args: argparse.Namespace) -> int:
    print(f"registered {mv.name} v{mv.version} from run {mv.run_id} (alias: candidate)")
    print(f"next: jupyter-mlops validate {mv.name} {mv.version}")
    return 0


def validate(gw: Gateway, args: argparse.Namespace) -> Any:
    return validation.validate(gw, args.model, args.version, reason=args.reason)


def validation_text(report: Any, args: argparse.Namespace) -> int:
    print(report.text())
    return 0 if report.passed else 5


def card(gw: Gateway, args: argparse.Namespace) -> tuple[Any, Any]:
    mv = registration.resolve(gw, args.model, args.version)
    return mv, cards.write_card(gw, mv.name, mv.version, out_dir=args.out)


def card_text(written: tuple[Any, Any], args: argparse.Namespace) -> int:
    mv, card = written
    print(card.markdown if args.print else f"model card of {mv.name} v{mv.version}: {card.md_path}")
    return 0


def package(gw: Gateway, args: argparse.Namespace) -> Any:
    return packaging.package(gw, args.model, args.version, args.out, force=args.force)


def packaged_text(out: Any, args: argparse.Namespace) -> int:
    print(f"packaged {args.model} v{args.version} into {out}")
    print(f"  docker build -t {args.model.lower()}:{args.version} {out}")
    return 0


def verify(gw: Gateway, args: argparse.Namespace) -> Any:
    mv = registration.resolve(gw, args.model, args.version)
    return signing.check_version(gw, mv.name, mv.version)


def verified_text(checked: Any, args: argparse.Namespace) -> int:
    if checked.key_id is None:
        print(
            f"{checked.name} v{checked.version}: not checked (no signing key configured, "
            "or unsigned versions are allowed)"
        )
    else:
        print(
            f"{checked.name} v{checked.version}: every file matches its signature ({checked.key_id})"
        )
    return 0


def promote(gw: Gateway, args: argparse.Namespace) -> Any:
    return rollout.promote(
        gw,
        args.model,
        args.version,
        args.to,
        weight=args.weight,
        force=args.force,
        reason=args.reason,
        shadow=args.shadow,
    )


def described(state: Any, args: argparse.Namespace) -> int:
    print(state.describe())
    return 0


def weight(gw: Gateway, args: argparse.Namespace) -> Any:
    return rollout.set_canary_weight(gw, args.model, args.percent, reason=args.reason)


def rollback(gw: Gateway, args: argparse.Namespace) -> Any:
    return rollout.rollback(gw, args.model, reason=args.reason, target=args.target)


def history(gw: Gateway, args: argparse.Namespace) -> tuple[Any, list[Any]]:
    """The model's rollout state and its release events, oldest first."""
    evts = release_history.events(gw, args.model)
    return (None if args.json else rollout.state(gw, args.model)), evts


def history_text(trail: tuple[Any, list[Any]], args: argparse.Namespace) -> int:
    state, evts = trail
    if args.json:
        print(json.dumps([asdict(e) for e in evts], indent=1))
        return 0
    print(state.describe())
    print(release_history.format_history(evts))
    return 0


def serve(args: argparse.Namespace) -> int:
    gw = gateway_from(args)
    registration.get_registered_model(
        gw, args.model
    )  # refuse an unknown model before saying "serving"
    print(
        f"serving {args.model} on http://{args.host}:{args.port} (champion + canary; Ctrl-C stops)"
    )
    server.serve(
        gw,
        args.model,
        host=args.host,
        port=args.port,
        max_body=int(args.max_body_mb * 1024 * 1024),
        poll_interval=args.poll,
        guard=args.guard,
        sticky_header=args.sticky_header or None,
    )
    return 0
