"""Backfill: list buckets and feed what no event covered into the normal intake path.

A rescanned object becomes a stored event (origin ``rescan``) and is processed by the
same workers as a webhook event, so it gets exactly the row a notification would have
produced. Object versions that already have an event are left alone, which makes a
rescan idempotent and lets an interrupted one resume where it stopped.
"""

from __future__ import annotations

import itertools
import logging
import multiprocessing
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, TypeVar

from psycopg_pool import ConnectionPool

from notifier.db import query
from notifier.intake.model import RESCAN_EVENT_NAME, RESCAN_SENDER, EventKind, ObjectEvent, Origin
from notifier.intake.store import database_errors, store_listed
from notifier.phases import Phase
from notifier.processing import Processor, run_until_idle
from notifier.storage import ListedObject, ObjectStore

logger = logging.getLogger(__name__)

BATCH_SIZE: Final = 1000
"""Objects checked and stored per statement (one S3 listing page): big enough to amortise
a round trip, small enough that an interruption repeats little."""

PREFETCH_PAGES: Final = 4
"""Listing pages read ahead while the previous ones are checked and stored."""

T = TypeVar("T")


@dataclass
class RescanTally:
    """Running counts, shared with the progress display."""

    listed: int = 0
    new: int = 0
    already_audited: int = 0
    retried: int = 0
    """Objects whose current row was an error with a transient cause, inspected again."""
    outside_window: int = 0
    processed: int = 0
    event_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class RescanSummary:
    listed: int
    new: int
    already_audited: int
    retried: int
    outside_window: int
    ok: int
    skipped: int
    errors: int
    pending: int
    """New events not finished yet: their object was unreachable and they will be retried."""


def rescan_event(bucket: str, listed: ListedObject, retry_of: int | None = None) -> ObjectEvent:
    """The event a notification would have carried for this object.

    ``retry_of`` is the intake event whose row is an error with a transient cause: the
    new event inspects the object again (a sequencer of ``retry:<id>`` makes it a new
    event, not a duplicate of the first), and its row supersedes the error's.
    """
    return ObjectEvent(
        sender=RESCAN_SENDER,
        event_name=RESCAN_EVENT_NAME,
        kind=EventKind.CREATED,
        bucket=bucket,
        key=listed.key,
        event_time=listed.last_modified,
        payload={
            "key": listed.key,
            "etag": listed.etag,
            "size": listed.size,
            "last_modified": listed.last_modified.isoformat(),
            "version_id": listed.version_id,
        },
        etag=listed.etag,
        version_id=listed.version_id,
        size=listed.size,
        sequencer=None if retry_of is None else f"retry:{retry_of}",
        origin=Origin.RESCAN,
    )


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def read_ahead(chunks: Iterator[list[T]], depth: int) -> Iterator[list[T]]:
    """``chunks``, produced by a background thread up to ``depth`` ahead of the consumer,
    so that listing the store and writing to the database overlap. An exception raised
    while producing is raised here, in order; closing this generator stops the producer.
    """
    handoff: queue.Queue[tuple[list[T] | None, BaseException | None]] = queue.Queue(depth)
    stop = threading.Event()

    def offer(item: tuple[list[T] | None, BaseException | None]) -> bool:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for chunk in chunks:
                if not offer((chunk, None)):
                    return
            offer((None, None))
        except BaseException as exc:  # handed to the consumer, which raises it
            offer((None, exc))

    producer = threading.Thread(target=produce, name="rescan-listing", daemon=True)
    producer.start()
    try:
        while True:
            chunk, error = handoff.get()
            if error is not None:
                raise error
            if chunk is None:
                return
            yield chunk
    finally:
        stop.set()
        producer.join()


class Rescanner:
    def __init__(
        self,
        pool: ConnectionPool,
        store: ObjectStore,
        phase_of: Callable[[str], Phase | None],
    ) -> None:
        self._pool = pool
        self._store = store
        self._phase_of = phase_of

    def enqueue(
        self,
        bucket: str,
        *,
        prefix: str | None,
        since: datetime | None,
        dry_run: bool,
        tally: RescanTally,
        on_batch: Callable[[RescanTally], None] | None = None,
    ) -> None:
        """List one bucket and store an event for every object version not yet seen: the
        event ``rescan_event`` describes, stored a listing page at a time (store_listed)."""
        mapped = self._phase_of(bucket) is not None
        pages = batched(self._store.list(bucket, prefix), BATCH_SIZE)
        for chunk in read_ahead(pages, PREFETCH_PAGES):
            tally.listed += len(chunk)
            in_window = [o for o in chunk if since is None or o.last_modified >= since]
            tally.outside_window += len(chunk) - len(in_window)
            keys = [o.key for o in in_window]
            known = self._known_versions(bucket, keys)
            retryable = self.retryable_errors(bucket, keys)
            fresh = [o for o in in_window if (o.key, o.etag) not in known]
            retry = [o for o in in_window if (o.key, o.etag) in retryable]
            tally.already_audited += len(in_window) - len(fresh) - len(retry)
            tally.new += len(fresh)
            tally.retried += len(retry)
            if (fresh or retry) and not dry_run:
                retry_of = [None] * len(fresh) + [retryable[(o.key, o.etag)] for o in retry]
                stored = store_listed(
                    self._pool, bucket, fresh + retry, mapped=mapped, retry_of=retry_of
                )
                tally.event_ids.extend(stored)
            if on_batch is not None:
                on_batch(tally)

    def summarize(self, tally: RescanTally) -> RescanSummary:
        outcomes = {"ok": 0, "skipped": 0, "error": 0, "pending": 0}
        for chunk in batched(tally.event_ids, 10_000):
            with database_errors(), self._pool.connection() as conn:
                rows = conn.execute(query("event_outcomes"), {"ids": list(chunk)}).fetchall()
            for _, status, estado in rows:
                outcomes[estado or ("pending" if status != "done" else "ok")] += 1
        return RescanSummary(
            listed=tally.listed,
            new=tally.new,
            already_audited=tally.already_audited,
            retried=tally.retried,
            outside_window=tally.outside_window,
            ok=outcomes["ok"],
            skipped=outcomes["skipped"],
            errors=outcomes["error"],
            pending=outcomes["pending"],
        )

    def retryable_errors(
        self, bucket: str, keys: Sequence[str]
    ) -> dict[tuple[str, str | None], int]:
        """``{(key, etag): intake event id}`` of current rows that are transient errors."""
        phase = self._phase_of(bucket)
        if not keys or phase is None:
            return {}
        with database_errors(), self._pool.connection() as conn:
            rows = conn.execute(
                query("retryable_errors"),
                {"phase": phase.short_name, "bucket": bucket, "keys": list(keys)},
            ).fetchall()
        return {(key, etag): event_id for key, etag, event_id in rows}

    def _known_versions(self, bucket: str, keys: Sequence[str]) -> set[tuple[str, str | None]]:
        if not keys:
            return set()
        with database_errors(), self._pool.connection() as conn:
            rows = conn.execute(
                query("known_object_versions"), {"bucket": bucket, "keys": list(keys)}
            ).fetchall()
        return {(key, etag) for key, etag in rows}


def process_backlog(
    processor: Processor,
    concurrency: int,
    on_event: Callable[[], None] | None = None,
    processes: int = 1,
) -> None:
    """Process every claimable event, then return: ``concurrency`` threads here and in
    each of ``processes - 1`` more processes (spawned, each with its own pool and S3
    client, reading the same NOTIFIER_* environment). Inspecting small objects is
    CPU-bound, so one process per core is what makes a backfill go faster."""
    context = multiprocessing.get_context("spawn")
    counters = [context.Value("q", 0) for _ in range(processes - 1)]
    helpers = [
        context.Process(target=_drain_in_process, args=(concurrency, counter), daemon=True)
        for counter in counters
    ]
    for helper in helpers:
        helper.start()
    lock = threading.Lock()

    def advance() -> None:
        if on_event is not None:
            with lock:
                on_event()

    threads = [
        threading.Thread(
            target=run_until_idle, args=(processor, advance), name=f"rescan-worker-{n}"
        )
        for n in range(concurrency)
    ]
    for thread in threads:
        thread.start()
    reported = 0
    while any(t.is_alive() for t in threads) or any(h.is_alive() for h in helpers):
        time.sleep(BACKLOG_POLL_SECONDS)
        done = sum(int(counter.value) for counter in counters)
        for _ in range(done - reported):
            advance()
        reported = done
    for thread in threads:
        thread.join()
    for helper in helpers:
        helper.join()
    if any(helper.exitcode for helper in helpers):
        logger.error("a backlog process failed; its events are taken again after their lease")


BACKLOG_POLL_SECONDS: Final = 0.2


def _drain_in_process(threads: int, counter: Any) -> None:
    """In a spawned process: drain the backlog with ``threads`` threads, counting events."""
    from notifier.app import Runtime
    from notifier.config import Settings

    runtime = Runtime.from_settings(Settings.from_env())

    def count() -> None:
        with counter.get_lock():
            counter.value += 1

    try:
        workers = [
            threading.Thread(target=run_until_idle, args=(runtime.processor(), count))
            for _ in range(threads)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    finally:
        runtime.close()
