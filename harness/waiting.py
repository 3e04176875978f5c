"""One way for a test to wait: poll a predicate until it holds, or fail saying what never did.

    job = wait_until(lambda: finished(job_id), timeout=60, interval=0.2, message="build done")

``wait_until`` returns the predicate's first truthy value. On timeout it raises AssertionError
with the message and the predicate's last value (or the last exception it was allowed to raise,
``ignoring``), so a failure shows what the test saw, not only that it waited. A predicate that
raises anything else (an AssertionError about a process that died, say) ends the wait at once.
``message`` may be a callable, for a message that is costly or only true at the end (a log's
tail). ``async_wait_until`` is the same for a coroutine predicate, on the running event loop:
both run the one loop below, which only awaits what they hand it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")
Message = str | Callable[[], str]


async def _poll(
    attempt: Callable[[], Awaitable[T]],
    pause: Callable[[float], Awaitable[None]],
    timeout: float,
    interval: float,
    message: Message,
    ignoring: tuple[type[BaseException], ...],
) -> T:
    deadline = time.monotonic() + timeout
    while True:
        try:
            last: Any = await attempt()
        except ignoring as error:
            last = error
        else:
            if last:
                return last  # type: ignore[no-any-return]
        if time.monotonic() >= deadline:
            text = message() if callable(message) else message
            raise AssertionError(f"{text} (waited {timeout:g} s; last: {last!r})")
        await pause(interval)


def _to_the_end(loop: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine that awaits nothing but plain functions: it ends on its first step."""
    try:
        loop.send(None)
    except StopIteration as finished:
        return finished.value  # type: ignore[no-any-return]
    loop.close()
    raise RuntimeError("the wait suspended: its predicate awaited something")


def wait_until(
    predicate: Callable[[], T],
    timeout: float,
    interval: float = 0.1,
    message: Message = "the condition never held",
    ignoring: tuple[type[BaseException], ...] = (),
) -> T:
    """Call ``predicate`` every ``interval`` s until it returns something truthy (returned)."""

    async def attempt() -> T:
        return predicate()

    async def pause(seconds: float) -> None:
        time.sleep(seconds)

    return _to_the_end(_poll(attempt, pause, timeout, interval, message, ignoring))


async def async_wait_until(
    predicate: Callable[[], Awaitable[T]],
    timeout: float,
    interval: float = 0.1,
    message: Message = "the condition never held",
    ignoring: tuple[type[BaseException], ...] = (),
) -> T:
    """``wait_until`` for a coroutine function, sleeping on the event loop between calls."""
    return await _poll(predicate, asyncio.sleep, timeout, interval, message, ignoring)
