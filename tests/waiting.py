"""One way for a test to wait: poll a predicate until it holds, or fail saying what never did.

    job = wait_until(lambda: finished(job_id), timeout=60, interval=0.2, message="build done")

``wait_until`` returns the predicate's first truthy value. On timeout it raises AssertionError
with the message and the predicate's last value (or the last exception it was allowed to raise,
``ignoring``), so a failure shows what the test saw, not only that it waited. A predicate that
raises anything else (an AssertionError about a process that died, say) ends the wait at once.
``message`` may be a callable, for a message that is costly or only true at the end (a log's
tail). ``async_wait_until`` is the same for a coroutine predicate, on the running event loop.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")
Message = str | Callable[[], str]


def _failure(message: Message, timeout: float, last: Any) -> AssertionError:
    text = message() if callable(message) else message
    return AssertionError(f"{text} (waited {timeout:g} s; last: {last!r})")


def wait_until(
    predicate: Callable[[], T],
    timeout: float,
    interval: float = 0.1,
    message: Message = "the condition never held",
    ignoring: tuple[type[BaseException], ...] = (),
) -> T:
    """Call ``predicate`` every ``interval`` s until it returns something truthy (returned)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            last: Any = predicate()
        except ignoring as error:
            last = error
        else:
            if last:
                return last
        if time.monotonic() >= deadline:
            raise _failure(message, timeout, last)
        time.sleep(interval)


async def async_wait_until(
    predicate: Callable[[], Awaitable[T]],
    timeout: float,
    interval: float = 0.1,
    message: Message = "the condition never held",
    ignoring: tuple[type[BaseException], ...] = (),
) -> T:
    """``wait_until`` for a coroutine function, sleeping on the event loop between calls."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            last: Any = await predicate()
        except ignoring as error:
            last = error
        else:
            if last:
                return last
        if time.monotonic() >= deadline:
            raise _failure(message, timeout, last)
        await asyncio.sleep(interval)
