"""The loop part of ``make demo``: drifted data arrives, the alert fires, a retrain runs, the
gates pass, a canary goes in, an approval is given, and the new champion is served.

    python -m jupyter_mlops.demo.loop [PROJECT_DIR]

Runs after the release and monitoring stages on the built example project. New labelled cases
land in ``data/incoming/`` (the prepare step reads them), and live traffic shifts the same way.
``jupyter-mlops loop serve`` runs as its own process, as it would beside a team's router; its
drift alert starts a cycle that builds, registers, validates and rolls the retrained version out
as a canary; the cycle then waits for an approval, given with ``jupyter-mlops approve`` by one of
the approvers ``release.approvals`` names; the loop makes the version champion and the router
serves it. Every wait is for a condition, with a timeout.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import MlopsError, NotFound
from ..loop.cycle import Cycle, CycleBook
from ..loop.service import loop_model
from ..loop.spec import load_loop_spec
from ..release.gates.evaluation import load_evaluation
from ..release.policy import load_policy
from ..release.rollout import demote_canary, state
from ..serving.server import BackgroundServer
from ..settings import Settings, child_environment
from ..store.gateway import Gateway, gateway_for
from ..workspace import Workspace
from .traffic import send_rows, send_traffic, versions_text

BIN = Path(sys.executable).parent
SHIFT_SD = 2.0
NEW_CASES = 240
LOOP_ACTOR = "ml-loop"  # the service account the loop process acts as


def incoming_cases(columns: list[str], shift: list[str], seed: int = 7) -> Any:
    """Labelled cases of the breast cancer data whose ``shift`` columns moved by 2 sd: the new
    data that arrives (the same shift as the live traffic)."""
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame
    cases = frame.sample(NEW_CASES, replace=True, random_state=seed).reset_index(drop=True)
    for c in shift:
        cases[c] = cases[c] + SHIFT_SD * float(frame[c].std())
    return cases[columns]


class LoopProcess:
    """``jupyter-mlops loop serve`` in its own process, its lines shown with a prefix."""

    def __init__(self, root: Path, say: Callable[[str], None]) -> None:
        env = {**os.environ, **child_environment(actor=LOOP_ACTOR)}
        self.proc = subprocess.Popen(
            [str(BIN / "jupyter-mlops"), "loop", "serve"],
            cwd=root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        self.say = say
        self.thread = threading.Thread(target=self._relay, daemon=True)
        self.thread.start()

    def _relay(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.say(f"   loop | {line.rstrip()}")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.thread.join(5)


def _cli(root: Path, *argv: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(BIN / "jupyter-mlops"), *argv],
        cwd=root,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
    )
    out = (done.stdout + done.stderr).rstrip()
    if done.returncode != 0:
        raise MlopsError(f"`jupyter-mlops {' '.join(argv)}` failed: {out}")
    return out


def run(gw: Gateway, *, say: Callable[[str], None] = print, timeout: float = 240.0) -> Cycle:
    ws = gw.ws
    policy = load_policy(ws)
    spec = load_loop_spec(ws)
    name = loop_model(spec)
    rule = policy.approval_rule("champion")
    if not policy.evaluation or rule is None:
        raise NotFound(
            "the example needs release.evaluation and release.approvals.champion in mlops.yaml"
        )
    if "champion" not in state(gw, name).aliases:
        raise NotFound(f"{name} has no champion yet", hint="run the release stage first")
    if "canary" in state(gw, name).aliases:
        demote_canary(gw, name, reason="loop demo: start without a canary")
    champion = state(gw, name).aliases["champion"]
    X = load_evaluation(gw, policy.evaluation, None).X
    shift = [str(c) for c in X.columns[:2]]
    cases = incoming_cases([*X.columns, policy.evaluation["target"]], shift)
    incoming = ws.root / "data" / "incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    cases.to_csv(incoming / "batch-1.csv", index=False)
    say(
        f"{len(cases)} new labelled cases arrived in data/incoming/batch-1.csv, "
        f"{', '.join(shift)} shifted by +{SHIFT_SD:g} sd; champion: v{champion}"
    )
    drifted = X.copy()
    for c in shift:
        drifted[c] = drifted[c] + SHIFT_SD * float(X[c].std())
    rows = drifted.to_dict(orient="records")
    book = CycleBook(gw, name)
    before = {c.run_id for c in book.recent(50)}
    loop = LoopProcess(ws.root, say)
    try:
        with BackgroundServer(gw, name, poll_interval=0.2) as srv:
            say(f"serving {name} on {srv.url}; live traffic now looks like the new cases")
            cycle = _until_approval(book, before, srv.url, rows, loop, timeout, say)
            version = str(cycle.version)
            who = rule.approvers[0] if rule.approvers else "reviewer"
            say(
                f"\n$ {Settings.actor.env}={who} jupyter-mlops approve {name} {version} --comment ..."
            )
            say(
                _cli(
                    ws.root,
                    *("approve", name, version, "--comment", "retrained on the new cases"),
                    env=child_environment(actor=who),
                )
            )
            cycle = _until(lambda: _ended(book, cycle.run_id), timeout, "the cycle to end", loop)
            if cycle.outcome != "promoted":
                raise MlopsError(f"the cycle ended {cycle.outcome}: {cycle.summary()}")
            srv.router.wait_for(lambda t: t.champion.version == version, 10)
            say(f"champion v{version} serves: {versions_text(send_rows(srv.url, rows[:40]))}")
    finally:
        loop.stop()
    say(f"\n$ jupyter-mlops loop status\n{_cli(ws.root, 'loop', 'status')}")
    return cycle


def _until(
    found: Callable[[], Cycle | None], timeout: float, what: str, loop: LoopProcess
) -> Cycle:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not loop.alive():
            raise MlopsError("the loop process stopped", hint="see its lines above")
        cycle = found()
        if cycle is not None:
            return cycle
        time.sleep(0.5)
    raise MlopsError(f"waited {timeout:g} s for {what}")


def _ended(book: CycleBook, run_id: str) -> Cycle | None:
    cycle = book.get(run_id)
    return None if cycle.active else cycle


def _until_approval(
    book: CycleBook,
    before: set[str],
    url: str,
    rows: list[dict[str, Any]],
    loop: LoopProcess,
    timeout: float,
    say: Callable[[str], None],
) -> Cycle:
    """Drifted traffic flows until a new cycle waits for its approval (the canary is watched
    on this traffic meanwhile)."""
    found: list[Cycle] = []

    def waiting() -> bool:
        if not loop.alive():
            return True
        cycle = next((c for c in book.recent(3) if c.run_id not in before), None)
        if cycle is not None and not cycle.active:
            found.append(cycle)
            return True
        if cycle is not None and cycle.outcome == "waiting" and cycle.current == "champion":
            found.append(cycle)
            return True
        return False

    # brisk until the alert has fired, then a steady stream, not a flood: the loop's build and
    # gates (a latency budget among them) share the CPU with this traffic
    def started() -> bool:
        return not loop.alive() or any(c.run_id not in before for c in book.recent(3))

    _, seen = send_traffic(url, rows, until=started, seconds=timeout)
    held, more = send_traffic(url, rows, until=waiting, seconds=timeout, pause=0.05)
    seen.update(more)
    if not loop.alive():
        raise MlopsError("the loop process stopped", hint="see its lines above")
    if not held or not found:
        raise MlopsError(f"no cycle asked for an approval within {timeout:g} s")
    if not found[0].active:
        raise MlopsError(f"the cycle ended {found[0].outcome}: {found[0].summary()}")
    say(f"traffic meanwhile: {versions_text(seen)}")
    return found[0]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m jupyter_mlops.demo.loop", description=__doc__)
    ap.add_argument("project", nargs="?", help="project folder (default: found from here)")
    args = ap.parse_args(argv)
    try:
        run(gateway_for(Workspace.find(args.project)), say=lambda text: print(text, flush=True))
    except MlopsError as exc:
        print(f"loop demo: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
