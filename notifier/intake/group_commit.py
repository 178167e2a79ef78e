"""Grouped commits: the events of concurrent requests stored by one INSERT and one commit.

With a durable PostgreSQL every commit waits for a WAL flush (milliseconds on most
disks), so a receiver that commits each request on its own spends its time waiting for
the disk. A ``CommitGroup`` sends, in one multi-row statement, the events of every
request that arrived while the previous statements were running (``FLUSHERS`` of them
at once); nothing waits for a group to fill, so a lone request pays only a thread
hand-off. Each request is answered
only after the statement holding its events has committed, and a request whose events
the database refuses does not fail the others (the group is retried one request at a
time).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import psycopg
from psycopg_pool import ConnectionPool

from notifier.db import is_outage

logger = logging.getLogger(__name__)

MAX_GROUP_ROWS: Final = 500
"""Rows in one grouped statement at most."""
IDLE_EXIT_SECONDS: Final = 5.0
"""An idle flusher thread exits; the next request starts another."""
FLUSHERS: Final = 2
"""Statements in flight at once per pool, each on its own connection. With one, every
request arriving while a commit is slow waits for it, then for its own: a slow commit
(tens of ms on a busy disk) held all of a worker's in-flight requests. With two, the
next group goes out while the previous one commits (bench_intake: p99 15-56 ms against
26-64 ms with one, in pairs of runs, for 0.27-0.33 commits per event against 0.20-0.25)."""
ANSWER_TIMEOUT_SECONDS: Final = 60.0
"""Longest wait for a group's answer (the pool's checkout and connect timeouts come first)."""

Rows = Sequence[Mapping[str, Any]]
Insert = Callable[[ConnectionPool, Rows], dict[str, int]]
"""Stores rows in one statement; returns the id of each row inserted, by dedup_key."""


@dataclass
class _Request:
    rows: Rows
    done: threading.Event = field(default_factory=threading.Event)
    inserted: dict[str, int] = field(default_factory=dict)
    error: BaseException | None = None


class CommitGroup:
    """Stores the rows of concurrent callers together; one per connection pool."""

    def __init__(self, pool: ConnectionPool, insert: Insert) -> None:
        self._pool = pool
        self._insert = insert
        self._queue: queue.Queue[_Request] = queue.Queue()
        self._lock = threading.Lock()
        self._flushers: list[threading.Thread] = []

    def store(self, rows: Rows) -> dict[str, int]:
        """Store ``rows`` (with the rows of whoever else is waiting); returns the ids of the
        rows inserted, by dedup_key. Raises what the insert raised for these rows."""
        request = _Request(rows)
        self._queue.put(request)
        self._ensure_flusher()
        if not request.done.wait(ANSWER_TIMEOUT_SECONDS):
            raise psycopg.OperationalError("no answer from the grouped insert in time")
        if request.error is not None:
            raise request.error
        return request.inserted

    def _ensure_flusher(self) -> None:
        with self._lock:
            self._flushers = [t for t in self._flushers if t.is_alive()]
            if len(self._flushers) < FLUSHERS:
                flusher = threading.Thread(
                    target=self._run, name="intake-group-commit", daemon=True
                )
                self._flushers.append(flusher)
                flusher.start()

    def _run(self) -> None:
        while True:
            try:
                first = self._queue.get(timeout=IDLE_EXIT_SECONDS)
            except queue.Empty:
                with self._lock:
                    if self._queue.empty():
                        me = threading.current_thread()
                        self._flushers = [t for t in self._flushers if t is not me]
                        return
                continue
            group = [first]
            rows = len(first.rows)
            while rows < MAX_GROUP_ROWS:
                try:
                    request = self._queue.get_nowait()
                except queue.Empty:
                    break
                group.append(request)
                rows += len(request.rows)
            self._flush(group)

    def _flush(self, group: list[_Request]) -> None:
        rows = [row for request in group for row in request.rows]
        try:
            try:
                inserted = self._insert(self._pool, rows)
            except psycopg.OperationalError as exc:
                if not is_outage(exc):
                    raise
                self._pool.check()  # drop connections broken by a restart, then once more
                inserted = self._insert(self._pool, rows)
            for request in group:  # in arrival order: a repeated event is the first's
                for row in request.rows:
                    key = row["dedup_key"]
                    if key in inserted:
                        request.inserted[key] = inserted.pop(key)
        except Exception as exc:
            if is_outage(exc) or len(group) == 1:
                for request in group:
                    request.error = exc
            else:
                # Refused for what some request holds: store each request on its own.
                for request in group:
                    self._flush([request])
                return
        finally:
            for request in group:
                request.done.set()
