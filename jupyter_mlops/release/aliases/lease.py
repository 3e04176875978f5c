"""A lease kept in the model registry itself: one holder at a time for a model's release actions.

MLflow has no compare-and-set, so the lease is a registered-model tag (``mlops.lease``) holding
``{"holder": token, "counter": n, "expires": epoch, "who": ..., "purpose": ...}`` and is taken by
*write, settle, re-read*:

1. read the tag; if another holder's lease has not expired, wait and read again;
2. write our token with ``counter + 1`` (the counter is the fencing token: it only grows);
3. sleep ``settle`` seconds, read the tag again: we hold the lease when it still carries our token
   *and* our own read-to-write round trip took less than ``settle``.

Why that is enough: a rival who also read "free" wrote within ``settle`` of its read (it checks its
own round trip the same way), and its read came before our write, so its write lands before our
re-read; the last writer is the only one who re-reads its own token. An attempt whose round trip
was too slow never claims, and gives back a lease it still finds under its own token.

The guarantee, stated honestly: mutual exclusion holds while (a) the store's reads see every
earlier write (one PostgreSQL or SQLite database behind the tracking server does), (b) a write is
applied within its request's round trip, and (c) the clocks of the machines agree within
``margin`` seconds (a lease's expiry is wall-clock time; its holder stops trusting it ``margin``
seconds before that). Beyond that, ``fence()`` re-reads the tag before every registry write, so a
holder that lost its lease (expired, or overwritten by a write that arrived late) stops before its
next write; what is left is one write already in flight, which the release layer's write-ahead
audit entry makes idempotent to replay.

On a SQLite store (one machine by nature) a file lock beside the database serialises holders
first, so there is nothing to settle and the lease costs two small writes.
"""

from __future__ import annotations

import json
import os
import random
import secrets
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlparse

from ...errors import Conflict
from ...locks import FileLock
from ...tags import LEASE_TAG

if TYPE_CHECKING:
    from ...store.gateway import Gateway


class LeaseLost(Conflict):
    """The lease ran out or another holder took it while an action was under way."""


@dataclass(frozen=True)
class LeaseValue:
    holder: str | None
    counter: int
    expires: float
    who: str = ""
    purpose: str = ""

    @classmethod
    def parse(cls, raw: str | None) -> LeaseValue:
        if not raw:
            return cls(None, 0, 0.0)
        try:
            data = json.loads(raw)
            return cls(
                data.get("holder") or None,
                int(data.get("counter") or 0),
                float(data.get("expires") or 0.0),
                str(data.get("who") or ""),
                str(data.get("purpose") or ""),
            )
        except (ValueError, TypeError, AttributeError):
            return cls(None, 0, 0.0)  # a hand-edited tag is no lease

    def dump(self) -> str:
        return json.dumps(
            {
                "holder": self.holder,
                "counter": self.counter,
                "expires": round(self.expires, 3),
                "who": self.who,
                "purpose": self.purpose,
            },
            sort_keys=True,
        )

    def free(self, now: float) -> bool:
        return self.holder is None or self.expires <= now


def sqlite_lock_path(tracking_uri: str, model: str, tag: str) -> Path | None:
    """Where the file lock of a SQLite store lives (beside its database), else None."""
    parsed = urlparse(tracking_uri)
    if parsed.scheme != "sqlite" or not parsed.path:
        return None
    db = Path(unquote(parsed.path)).resolve()
    return db.parent / f"{db.name}.locks" / f"{tag}-{model}.lock"


class Lease:
    """``with Lease(gw, model).acquire():`` ... ``lease.fence()`` before each registry write."""

    def __init__(
        self,
        gw: Gateway,
        model: str,
        *,
        tag: str = LEASE_TAG,
        purpose: str = "release",
        ttl: float | None = None,
        settle: float | None = None,
        local_lock: bool = True,
        actor: str | None = None,
    ) -> None:
        self.model, self.tag, self.purpose = model, tag, purpose
        self.client = gw.client
        settings = gw.ws.settings
        self.ttl = ttl if ttl is not None else settings.lease_ttl
        self.settle = settle if settle is not None else settings.lease_settle
        self.margin = min(5.0, self.ttl / 4)
        self.token = secrets.token_hex(8)
        self.who = f"{gw.actor(actor)}@{socket.gethostname()}:{os.getpid()}"
        lock_path = sqlite_lock_path(gw.tracking_uri, model, tag) if local_lock else None
        self._file_lock = FileLock(lock_path) if lock_path else None
        self.counter = 0
        self._valid_until = 0.0  # time.monotonic() after which we stop trusting the lease
        self.attempts = 0

    # ------------------------------------------------------------------ reading and writing
    def read(self) -> LeaseValue:
        return LeaseValue.parse(self.client.get_registered_model(self.model).tags.get(self.tag))

    def _write(self, value: LeaseValue) -> None:
        self.client.set_registered_model_tag(self.model, self.tag, value.dump())

    def _mine(self, counter: int, started: float) -> LeaseValue:
        return LeaseValue(
            self.token,
            counter,
            time.time() - (time.monotonic() - started) + self.ttl,
            self.who,
            self.purpose,
        )

    @property
    def held(self) -> bool:
        return self._valid_until > time.monotonic()

    # ------------------------------------------------------------------ taking and giving back
    def acquire(self, timeout: float = 60.0) -> Lease:
        """Block until the lease is ours (Conflict naming the holder after ``timeout``)."""
        deadline = time.monotonic() + timeout
        if self._file_lock is not None and not self._file_lock.acquire(timeout=timeout):
            raise Conflict(
                f"another release action on {self.model} is under way",
                hint=f"held by {self._file_lock.holder() or 'another process'}",
            )
        try:
            while not self.try_acquire():
                if time.monotonic() >= deadline:
                    current = self.read()
                    raise Conflict(
                        f"the release lease of {self.model} is held by {current.who or 'someone'}",
                        hint=f"it expires in {max(0.0, current.expires - time.time()):.0f} s; "
                        "try again then",
                    )
                time.sleep(random.uniform(0.05, 0.25))
        except BaseException:
            self._drop_file_lock()
            raise
        return self

    def try_acquire(self) -> bool:
        """One attempt; True when the lease is ours."""
        from mlflow.exceptions import MlflowException

        self.attempts += 1
        started = time.monotonic()
        current = self.read()
        if current.holder == self.token and self.held:
            return True
        exclusive = self._file_lock is not None  # every rival waits on the file lock first
        if not exclusive and not current.free(time.time()):
            return False
        mine = self._mine(current.counter + 1, started)
        try:
            self._write(mine)
        except MlflowException:  # e.g. two first writes of the tag at once: try again
            return False
        round_trip = time.monotonic() - started
        if exclusive:
            self._claim(mine.counter, started)
            return True
        time.sleep(self.settle)
        back = self.read()
        if back.holder != self.token:
            return False  # a later writer won
        if round_trip >= self.settle:
            # too slow to be sure no rival re-read its own token before our write landed
            self._write(LeaseValue(None, back.counter, 0.0, self.who, "given back"))
            return False
        self._claim(mine.counter, started)
        return True

    def _claim(self, counter: int, started: float) -> None:
        self.counter = counter
        self._valid_until = started + self.ttl - self.margin

    def fence(self) -> None:
        """Raise LeaseLost unless we still hold the lease (call before every registry write)."""
        if not self.held:
            raise LeaseLost(
                f"the release lease of {self.model} ran out during the action",
                hint="the next release action completes what was recorded",
            )
        if self._file_lock is not None:
            return  # nobody else can write the tag while we hold the file lock
        current = self.read()
        if current.holder != self.token or current.counter != self.counter:
            self._valid_until = 0.0
            raise LeaseLost(
                f"the release lease of {self.model} was taken by {current.who or 'someone else'}",
                hint="the next release action completes what was recorded",
            )

    def renew(self) -> None:
        """Extend a held lease by ``ttl`` (leaders call this every round)."""
        started = time.monotonic()
        self.fence()
        self._write(self._mine(self.counter, started))
        self._valid_until = started + self.ttl - self.margin

    def release(self) -> None:
        """Give the lease back (keeping its counter, so fencing tokens only grow)."""
        try:
            if self._valid_until > 0 and self.read().holder == self.token:
                self._write(LeaseValue(None, self.counter, 0.0, self.who, "released"))
        finally:
            self._valid_until = 0.0
            self._drop_file_lock()

    def _drop_file_lock(self) -> None:
        if self._file_lock is not None and self._file_lock.held:
            self._file_lock.release()

    def __enter__(self) -> Lease:
        if not self.held:
            self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
