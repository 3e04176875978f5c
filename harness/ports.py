"""Ports for the servers the tests start: nothing else on the machine takes one between its choice
and the server's bind.

A port that ``bind(("127.0.0.1", 0))`` reports free comes from the kernel's ephemeral range, the
range every Jupyter kernel's five ZMQ channels, every client socket and every other ``bind(0)``
draw from. A server that takes a second or more to start (``jupyter lab``, ``mlflow server``,
PostgreSQL, a serving replica) could find its port taken by a kernel of a test running in
parallel. These ports come from below the ephemeral range instead, from a slice of their own for
each pytest-xdist worker, never the same one twice in a process, and checked free when chosen.
"""

from __future__ import annotations

import itertools
import os
import socket
import threading
from pathlib import Path

LOWEST = 20000  # well above the registered services a machine may run (PostgreSQL: 5432)
_lock = threading.Lock()
_taken = itertools.count()


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default


def _slice() -> range:
    """This worker's ports: the range below the ephemeral one, cut in one slice per worker."""
    workers = max(1, int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1))
    name = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    index = int(name) % workers if name.isdigit() else 0
    width = (_ephemeral_low() - LOWEST) // workers
    return range(LOWEST + index * width, LOWEST + (index + 1) * width)


def _is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A port of 127.0.0.1 nobody listens on, that no other test of this run will be given."""
    ports = _slice()
    if len(ports) < 16:  # an ephemeral range reaching down to LOWEST: the kernel's choice
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return int(sock.getsockname()[1])
    with _lock:
        for _ in range(len(ports)):
            port = ports[next(_taken) % len(ports)]
            if _is_free(port):
                return port
    raise RuntimeError(f"no free port in {ports.start}-{ports.stop - 1}")
