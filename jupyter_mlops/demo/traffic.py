"""Synthetic traffic for a serving router: the one sender of the demos, benchmarks and tests.

Single-row requests (``dataframe_records``) from a few client threads, counted by (HTTP status,
``X-Model-Version``), so a caller sees at a glance which versions answered and how often.
Three ways to stop: after every row once, after some seconds, or when a condition holds.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

POLL = 0.05  # how often a condition is checked
Seen = Counter[tuple[int, "str | None"]]  # (HTTP status, answering version) -> requests


def send_traffic(
    url: str,
    rows: list[dict[str, Any]],
    *,
    clients: int = 2,
    once: bool = False,
    seconds: float | None = None,
    until: Callable[[], bool] | None = None,
    pause: float = 0.0,
) -> tuple[bool, Seen]:
    """Send ``rows`` to ``url``/invocations until the stop rule holds.

    ``once``: every row exactly once. Otherwise the rows cycle until ``until()`` holds (then the
    first value is True) or ``seconds`` pass. ``pause`` between a client's requests makes a steady
    stream rather than a flood, leaving CPU to whatever the caller waits for.
    """
    import httpx

    if not rows:
        raise ValueError("no rows to send")
    if not once and seconds is None and until is None:
        raise ValueError("give once=True, seconds or until: traffic has to stop somehow")
    seen: Seen = Counter()
    stop = threading.Event()
    lock = threading.Lock()
    counter = itertools.count()

    def next_row() -> dict[str, Any] | None:
        with lock:
            i = next(counter)
        if once and i >= len(rows):
            return None
        return rows[i % len(rows)]

    def client() -> None:
        with httpx.Client(base_url=url, timeout=30) as http:
            while not stop.is_set() and (row := next_row()) is not None:
                r = http.post("/invocations", json={"dataframe_records": [row]})
                with lock:
                    seen[(r.status_code, r.headers.get("x-model-version"))] += 1
                if pause:
                    time.sleep(pause)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    held = False
    deadline = None if seconds is None else time.monotonic() + seconds
    try:
        while any(t.is_alive() for t in threads):
            if until is not None and until():
                held = True
                break
            if deadline is not None and time.monotonic() >= deadline:
                break
            time.sleep(POLL)
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    return held, seen


def send_rows(url: str, rows: list[dict[str, Any]], *, clients: int = 2) -> Seen:
    """Every row once: (status, version) counts."""
    return send_traffic(url, rows, clients=clients, once=True)[1]


def versions_text(seen: Seen) -> str:
    """``v3: 180, v4: 20, HTTP 400: 1``: who answered how often."""
    by: Counter[str] = Counter()
    for (status, version), n in seen.items():
        by[f"v{version}" if status == 200 else f"HTTP {status}"] += n
    return ", ".join(f"{k}: {n}" for k, n in sorted(by.items()))
