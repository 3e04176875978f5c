"""The tests' one way to wait: returns what held, or fails naming what never did and what it saw."""

from __future__ import annotations

import asyncio
import time

import pytest
from waiting import async_wait_until, wait_until


def test_returns_the_first_truthy_value():
    answers = iter([0, None, [], "ready", "later"])
    assert wait_until(lambda: next(answers), timeout=5, interval=0) == "ready"


def test_times_out_with_the_message_and_the_last_value():
    seen = []

    def jobs_done() -> list[str]:
        seen.append(len(seen))
        return []

    started = time.monotonic()
    with pytest.raises(AssertionError, match=r"^no job done \(waited 0.2 s; last: \[\]\)$"):
        wait_until(jobs_done, timeout=0.2, interval=0.05, message="no job done")
    assert 0.2 <= time.monotonic() - started < 5
    assert len(seen) >= 3  # it kept asking until the deadline


def test_ignored_errors_are_retried_and_reported_as_the_last_value():
    calls = iter([OSError("refused"), OSError("refused"), "up"])

    def probe() -> str:
        answer = next(calls)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert wait_until(probe, timeout=5, interval=0, ignoring=(OSError,)) == "up"
    with pytest.raises(AssertionError, match=r"server down .*last: ConnectionRefusedError\('no'\)"):
        wait_until(
            lambda: (_ for _ in ()).throw(ConnectionRefusedError("no")),
            timeout=0.1,
            interval=0.02,
            message=lambda: "server down",
            ignoring=(OSError,),
        )


def test_other_errors_end_the_wait_at_once():
    started = time.monotonic()
    with pytest.raises(AssertionError, match="process exited"):
        wait_until(lambda: (_ for _ in ()).throw(AssertionError("process exited")), timeout=30)
    assert time.monotonic() - started < 5


def test_async_variant_waits_on_the_event_loop():
    state = {"calls": 0}

    async def finished() -> dict | None:
        state["calls"] += 1
        return {"status": "done"} if state["calls"] == 3 else None

    async def scenario():
        done = await async_wait_until(finished, timeout=5, interval=0)
        with pytest.raises(AssertionError, match=r"still queued \(waited 0.1 s; last: None\)"):
            await async_wait_until(lambda: asyncio.sleep(0), timeout=0.1, message="still queued")
        return done

    assert asyncio.run(scenario()) == {"status": "done"}
