"""The loop process: one leader per model checks the triggers and runs the cycles.

``jupyter-mlops loop serve`` (or the Jupyter server extension, when asked to host it) runs
``LoopService.serve``: every ``loop.poll`` seconds it renews its leadership, takes the firings
(the triggers' probes, and firings asked for by hand), starts a cycle or coalesces them into the
one under way, and advances that cycle. Leadership is the registry lease of the release layer
on the tag ``mlops.loop_leader`` (as the canary guard elects its leader): two loop processes,
on one machine or several, never run a cycle twice; a leader that dies is replaced once its
lease expires. While a stage blocks (a build), a thread keeps the lease renewed.

``run_by_hand`` is ``jupyter-mlops loop run``: with no leader alive it leads for one cycle and
follows it to its end; with one, it asks that leader for the cycle and follows it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from ..errors import ConfigError, InvalidInput, MlopsError
from ..release.aliases.lease import Lease, LeaseLost
from ..store.gateway import Gateway
from ..tags import LOOP_LEADER_TAG
from .cycle import Cycle, CycleBook, CyclePlan
from .firing import Firing, TriggerCheck
from .memory import ensure_model, memories, remember, request_firing, take_requests
from .runner import advance
from .spec import MANUAL, LoopSpec, load_loop_spec
from .stages import CycleContext
from .triggers import PROBES

log = logging.getLogger("jupyter_mlops")
WATCH_POLL = 1.0  # seconds between rounds while a canary is under watch


def loop_model(spec: LoopSpec) -> str:
    if not spec.model:
        raise ConfigError(
            "the loop has no model to release",
            path=spec.source if spec.source != "defaults" else None,
            key="loop.model",
            hint="set release.model (or loop.model) in mlops.yaml",
        )
    return spec.model


class LoopService:
    """The loop of one model: its leadership, its triggers and its cycles."""

    def __init__(
        self,
        gw: Gateway,
        spec: LoopSpec | None = None,
        *,
        say: Callable[[str], None] = print,
        actor: str | None = None,
        poll: float | None = None,
    ) -> None:
        self.gw = gw
        self.spec = spec if spec is not None else load_loop_spec(gw.ws)
        self.model = loop_model(self.spec)
        self.poll = poll if poll is not None else self.spec.poll
        self.actor = gw.actor(actor)
        self.book = CycleBook(gw, self.model)
        self.ctx = CycleContext(gw, self.model, self.actor, say)
        self.say = say
        self.lease = Lease(
            gw,
            self.model,
            tag=LOOP_LEADER_TAG,
            purpose="loop",
            ttl=max(3 * self.poll, 30.0),
            local_lock=False,
            actor=self.actor,
        )
        self.leader = False
        self.last_error: str | None = None
        self._stop = threading.Event()
        self._model_known = False

    # ------------------------------------------------------------------ leadership
    def lead(self) -> bool:
        """True while this process leads (renewed here; taken when free)."""
        if not self._model_known:
            ensure_model(self.gw, self.model)
            self._model_known = True
        if self.lease.held:
            try:
                self.lease.renew()
                return True
            except LeaseLost:
                self.say("the loop lost its leadership to another process")
        return self.lease.try_acquire()

    @contextmanager
    def _renewing(self) -> Iterator[None]:
        """Keep the lease renewed while a round blocks (a build takes minutes)."""
        done = threading.Event()

        def renew() -> None:
            while not done.wait(self.lease.ttl / 4):
                try:
                    self.lease.renew()
                except Exception as exc:  # lost, or the store hiccuped: the round ends soon
                    log.warning("loop leadership not renewed: %s", exc)

        thread = threading.Thread(target=renew, name="loop-lease", daemon=True)
        thread.start()
        try:
            yield
        finally:
            done.set()
            thread.join(5)

    # ------------------------------------------------------------------ one round
    def check_triggers(self, tags: dict[str, str]) -> list[Firing]:
        """Every declared trigger's probe, in declaration order; memories that changed are
        written back."""
        known = memories(tags)
        check = TriggerCheck(self.gw, self.model)
        fired = []
        for trigger in self.spec.triggers.values():
            before = known.get(trigger.name, {})
            memory = dict(before)
            try:
                firing = PROBES[trigger.kind](check, trigger, memory)
            except MlopsError as exc:
                memory["error"], firing = exc.message, None
            except Exception as exc:  # one broken probe must not stop the others
                log.exception("loop trigger %s failed", trigger.name)
                memory["error"], firing = f"{type(exc).__name__}: {exc}", None
            if memory != before:
                remember(self.gw, self.model, trigger.name, memory)
            if firing is not None:
                self.say(f"trigger {trigger.name} fired: {firing.reason}")
                fired.append(firing)
        return fired

    def take(self, firings: list[Firing]) -> Cycle | None:
        """Start a cycle for the firings, or coalesce them into the one under way."""
        active = self.book.active()
        if not firings:
            return active
        if active is None:
            active = self.book.start(firings[0], CyclePlan.of(self.spec.cycle), self.actor)
            self.say(f"cycle {active.run_id[:8]} started: {active.reason}")
            firings = firings[1:]
        for firing in firings:
            self.book.coalesce(active, firing)
            self.say(f"cycle {active.run_id[:8]}: {firing.trigger} joins it ({firing.reason})")
        return active

    def round(self, extra: list[Firing] | None = None) -> Cycle | None:
        """One round as leader: firings, then the cycle under way moves on."""
        tags = dict(self.gw.client.get_registered_model(self.model).tags)
        firings = take_requests(self.gw, self.model, tags) + list(extra or [])
        firings += self.check_triggers(tags)
        cycle = self.take(firings)
        if cycle is not None:
            with self._renewing():
                cycle = advance(self.ctx, self.book, cycle)
        return cycle

    def interval(self, cycle: Cycle | None) -> float:
        watching = cycle is not None and cycle.active and cycle.current == "watch"
        return min(self.poll, WATCH_POLL) if watching else self.poll

    # ------------------------------------------------------------------ the process
    def serve(self) -> None:
        """Lead (or stand by to lead) until ``stop()``; the lease is given back at the end."""
        self.say(
            f"loop for {self.model}: {len(self.spec.triggers)} trigger(s), "
            f"checked every {self.poll:g} s"
        )
        try:
            while not self._stop.is_set():
                cycle = None
                try:
                    was = self.leader
                    self.leader = self.lead()
                    if self.leader and not was:
                        self.say(f"leading the loop of {self.model} as {self.lease.who}")
                    if self.leader:
                        cycle = self.round()
                    self.last_error = None
                except Exception as exc:  # the store may be briefly unreachable: next round
                    self.last_error = f"{type(exc).__name__}: {exc}"
                    log.warning("loop round failed: %s", self.last_error)
                self._stop.wait(self.interval(cycle))
        finally:
            self.release()

    def stop(self) -> None:
        self._stop.set()

    def release(self) -> None:
        if self.lease.held:
            try:
                self.lease.release()  # a standby takes over at once, not after the ttl
            except Exception as exc:
                log.warning("the loop kept its lease: %s", exc)
        self.leader = False


def manual_firing(spec: LoopSpec, trigger: str | None, who: str) -> Firing:
    if trigger is not None and trigger not in spec.triggers:
        known = ", ".join(spec.triggers) or "none declared"
        raise InvalidInput(f"no trigger {trigger!r} in loop.triggers", hint=f"triggers: {known}")
    return Firing(trigger or MANUAL, "manual", f"by hand ({who})", time.time(), {"by": who})


def run_by_hand(
    gw: Gateway,
    *,
    trigger: str | None = None,
    say: Callable[[str], None] = print,
    spec: LoopSpec | None = None,
    timeout: float | None = None,
) -> Cycle:
    """One cycle now: led here when no loop leads, else asked of the leader; followed to its
    end (or ``timeout`` seconds: it goes on without us)."""
    service = LoopService(gw, spec, say=say)
    firing = manual_firing(service.spec, trigger, service.actor)
    deadline = None if timeout is None else time.monotonic() + timeout
    if not service.lead():
        holder = service.lease.read()
        request_firing(gw, service.model, firing.trigger, service.actor)
        say(f"the loop led by {holder.who or 'another process'} takes the cycle")
        return follow(service.book, say, deadline, since=firing.at)
    try:
        cycle = service.round([firing])
        while cycle is not None and cycle.active:
            if deadline is not None and time.monotonic() >= deadline:
                break
            time.sleep(service.interval(cycle))
            if not service.lead():
                say("another loop process took over; it carries on with the cycle")
                break
            cycle = service.round()
        assert cycle is not None
        return cycle
    finally:
        service.release()


def follow(
    book: CycleBook,
    say: Callable[[str], None],
    deadline: float | None,
    *,
    since: float,
    interval: float = 1.0,
) -> Cycle:
    """Print the stages of the cycle that takes a firing made at ``since`` until it ends."""
    shown: dict[str, str] = {}
    cycle: Cycle | None = None
    while deadline is None or time.monotonic() < deadline:
        cycle = book.active() or next(
            (c for c in book.recent(3) if c.ended is not None and c.ended >= since), None
        )
        if cycle is not None:
            for record in cycle.stages:
                line = f"{record.status}: {record.note}" if record.note else record.status
                if shown.get(record.stage) != line:
                    shown[record.stage] = line
                    say(f"cycle {cycle.run_id[:8]}: {record.stage}: {line}")
            if not cycle.active:
                say(cycle.summary())
                return cycle
        time.sleep(interval)
    if cycle is None:
        raise MlopsError(
            "the leading loop has not taken the cycle yet",
            hint="see `jupyter-mlops loop status`",
        )
    return cycle
