"""Leases that follow the work: a worker renews the claims it holds while it works.

A claim (``intake_events.next_attempt_at`` of a 'processing' event) lasts
``NOTIFIER_LEASE_SECONDS``. While a worker thread holds a batch, a ``LeaseRenewal``
extends the leases still held every ``lease_seconds / 3``; when the worker dies or loses
the database, renewals stop and another worker claims the events once the lease runs out.
A renewal matches (id, attempts), so it never extends a lease another worker now holds.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from types import TracebackType
from typing import Protocol

import psycopg
from psycopg_pool import ConnectionPool, PoolClosed, PoolTimeout

from notifier.db import query

logger = logging.getLogger(__name__)


class Held(Protocol):
    """A claimed event, as far as its lease is concerned."""

    @property
    def id(self) -> int: ...

    @property
    def attempts(self) -> int: ...


class LeaseRenewal:
    """A background thread renewing the leases of the events in ``held``.

    Use as a context manager around the work; ``drop`` an event once it is finished,
    postponed or released. Renewal failures (database down) are logged and retried at
    the next tick: the lease then runs out on its own, which is the point.
    """

    def __init__(self, pool: ConnectionPool, lease_seconds: float, every_seconds: float) -> None:
        self._pool = pool
        self._lease_seconds = lease_seconds
        self._every = every_seconds
        self._held: dict[int, int] = {}
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self.renewals = 0

    def hold(self, events: Iterable[Held]) -> None:
        with self._lock:
            self._held.update((e.id, e.attempts) for e in events)

    def drop(self, events: Iterable[Held]) -> None:
        with self._lock:
            for event in events:
                self._held.pop(event.id, None)

    def renew(self) -> int:
        """Extend every lease still held now; returns how many were extended."""
        with self._lock:
            ids, attempts = list(self._held), list(self._held.values())
        if not ids:
            return 0
        with self._pool.connection() as conn:
            cursor = conn.execute(
                query("renew_leases"),
                {"ids": ids, "attempts": attempts, "lease_seconds": self._lease_seconds},
            )
        self.renewals += 1
        return cursor.rowcount

    def __enter__(self) -> LeaseRenewal:
        self._thread = threading.Thread(
            target=self._run, name=f"{threading.current_thread().name}-leases", daemon=True
        )
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._done.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        while not self._done.wait(self._every):
            try:
                renewed = self.renew()
            except PoolClosed:
                return
            except (psycopg.Error, PoolTimeout) as exc:
                logger.warning("could not renew leases: %s", type(exc).__name__)
                continue
            logger.debug("renewed %d lease(s)", renewed)
