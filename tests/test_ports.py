"""The tests' own ports: free, never handed out twice, and out of the kernel's ephemeral range
(where kernels' ZMQ channels and client sockets take theirs), in one slice per xdist worker."""

from __future__ import annotations

import itertools
import socket

import ports


def test_ports_are_free_distinct_and_below_the_ephemeral_range():
    given = [ports.free_port() for _ in range(50)]
    assert len(set(given)) == 50
    assert all(ports.LOWEST <= p < ports._ephemeral_low() for p in given), given
    for port in given[:5]:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))


def test_a_port_someone_listens_on_is_skipped(monkeypatch):
    port = ports.free_port()  # free now; earlier ports of this worker may be listened on
    monkeypatch.setattr(ports, "_taken", itertools.count(ports._slice().index(port)))
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", port))
        busy.listen()
        given = ports.free_port()
    assert given != port and given in ports._slice()


def test_each_worker_has_a_slice_of_its_own(monkeypatch):
    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", "3")
    slices = []
    for worker in ("gw0", "gw1", "gw2"):
        monkeypatch.setenv("PYTEST_XDIST_WORKER", worker)
        slices.append(set(ports._slice()))
    assert all(len(s) > 1000 for s in slices)
    assert not (slices[0] & slices[1] or slices[1] & slices[2] or slices[0] & slices[2])
