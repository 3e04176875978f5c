"""Moving a cycle on: run its stages in order until it ends or has to wait.

``advance`` is called by the leading loop every round for the cycle under way (and by
``jupyter-mlops loop run`` until its cycle ends). It starts where the recorded state says, so a
restarted loop resumes a cycle halfway (a stage that was running when its process died runs
again: every stage is safe to repeat).
"""

from __future__ import annotations

import logging

from ..errors import MlopsError
from ..journal.events import CYCLE_FINISHED, emit
from ..store.gateway import Gateway
from .cycle import STAGES, Cycle, CycleBook, StageRecord
from .stages import STAGE_RUNNERS, CycleContext, CycleStop

log = logging.getLogger("jupyter_mlops")

PROMOTIONS = ("staging", "canary", "champion")


def advance(ctx: CycleContext, book: CycleBook, cycle: Cycle) -> Cycle:
    """Run ``cycle``'s stages until it ends or waits; its state is saved after each stage."""
    for name in STAGES:
        record = cycle.stage(name)
        if record is not None and record.status in ("done", "skipped"):
            continue
        record = cycle.begin(name, ctx.now())
        if record.status != "waiting":
            record.status = "running"
            cycle.outcome = "running"
            book.save(cycle)
            ctx.say(f"cycle {cycle.run_id[:8]}: {name}")
        seen = (record.status, record.note)
        try:
            result = STAGE_RUNNERS[name](ctx, cycle, record)
        except CycleStop as stop:
            _end(ctx, book, cycle, record, stop.outcome, stop.note)
            return cycle
        except MlopsError as exc:
            note = exc.message + (f" ({exc.hint})" if exc.hint else "")
            _end(ctx, book, cycle, record, "failed", f"{name}: {note}")
            return cycle
        except Exception as exc:  # a bug or the store: the cycle says so instead of hanging
            log.exception("loop cycle %s failed at %s", cycle.run_id, name)
            _end(ctx, book, cycle, record, "failed", f"{name}: {type(exc).__name__}: {exc}")
            return cycle
        if result == "wait":
            first = record.status != "waiting" or cycle.outcome != "waiting"
            record.status, cycle.outcome = "waiting", "waiting"
            if first:
                ctx.say(f"cycle {cycle.run_id[:8]}: {name}: {record.note}")
            if (record.status, record.note) != seen:  # a cycle may wait for days: no rewrites
                book.save(cycle)
            return cycle
        record.status, record.ended = result, ctx.now()
        if record.note:
            ctx.say(f"cycle {cycle.run_id[:8]}: {name}: {record.note}")
    moved = any((r := cycle.stage(a)) is not None and r.status == "done" for a in PROMOTIONS)
    last = cycle.stages[-1]
    _end(ctx, book, cycle, last, "promoted" if moved else "validated", last.note)
    return cycle


def _end(
    ctx: CycleContext,
    book: CycleBook,
    cycle: Cycle,
    record: StageRecord,
    outcome: str,
    note: str,
) -> None:
    if record.ended is None or outcome in ("stopped", "failed", "unchanged"):
        record.ended = ctx.now()
    if outcome in ("stopped", "unchanged"):
        record.status = "stopped"
    elif outcome == "failed":
        record.status = "failed"
    record.note = note
    cycle.outcome = outcome
    book.finish(cycle)
    ctx.say(cycle.summary())
    announce_finished(ctx.gw, cycle)


def announce_finished(gw: Gateway, cycle: Cycle) -> None:
    """The moment a cycle ends: the ``cycle_finished`` event goes out (its id derived from the
    cycle's run and outcome, so a cycle resumed and ended again elsewhere is announced once)."""
    payload = {**cycle.to_dict(), "cycle": cycle.run_id}
    emit(
        gw.ws,
        CYCLE_FINISHED,
        model=cycle.model,
        payload=payload,
        actor=cycle.actor or None,
        key=(cycle.run_id, cycle.outcome),
    )
