"""Processing: claim stored events in batches, inspect their objects, write audit rows.

A worker thread claims up to ``NOTIFIER_WORKER_BATCH_SIZE`` events in one statement and
holds them under leases it renews while it works (``leases.py``). Small objects are read
with one GET each and inspected in memory; a large object is handled alone, and the
large events claimed beside it are given back at once. Inspection runs outside any
transaction; the batch's audit rows and 'done' marks are then written in one
transaction, and only for the events whose claim is still this worker's.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

import psycopg
from psycopg.rows import class_row
from psycopg_pool import ConnectionPool, PoolTimeout

from notifier import analysis, audit
from notifier.audit.storable import storable_text
from notifier.config import Settings
from notifier.db import is_outage, query
from notifier.errors import TransientError
from notifier.inspection import Inspection, InspectionLimits, inspect_object
from notifier.inspection.source import BytesSource, ObjectSource
from notifier.intake.model import EventKind
from notifier.metrics import AUDIT_ROWS, DATABASE_ERRORS, GIVE_UPS, RETRIES
from notifier.phases import Phase
from notifier.processing.leases import LeaseRenewal
from notifier.storage import ObjectInfo, ObjectMissing, ObjectStore, ObjectUnreadable

logger = logging.getLogger(__name__)

IDLE_POLL_SECONDS: Final = 0.25
"""How often an idle worker looks for new events; keeps rows within a second of upload."""

BACKOFF_BASE_SECONDS: Final = 5.0
BACKOFF_MAX_SECONDS: Final = 300.0
DATABASE_RETRY_SECONDS: Final = 2.0

INLINE_ANALYSIS_MAX_ROWS: Final = 4
"""A batch of at most this many rows is analysed right after its commit, its rows together
(anomalies within a second of the upload; about 3 ms a row for a batch of 4, half or less
of analysing them one by one, see bench/bench_analysis.py); a larger batch means a
backlog, and its rows are left to the worker's analysis catch-up thread
(``analysis.start_catch_up``), so that analysis never holds processing back."""

SMALL_OBJECT_BYTES: Final = 1024 * 1024
"""Objects up to this size (as the event says) are read with one GET, headers and bytes
together, and inspected in memory; larger ones are checked with HEAD, then streamed."""


def backoff_seconds(attempts: int) -> float:
    """5 s, 10 s, 20 s ... capped at 5 minutes."""
    return float(min(BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_MAX_SECONDS))


@dataclass(frozen=True)
class ClaimedEvent:
    """A stored event this worker holds until its lease runs out."""

    id: int
    attempts: int
    sender: str
    origin: str
    event_name: str
    event_kind: str
    bucket: str
    object_key: str
    event_time: datetime
    etag: str | None
    version_id: str | None
    size_bytes: int | None
    content_type: str | None
    sequencer: str | None
    user_metadata: Mapping[str, str]
    principal_id: str | None = None
    source_ip: str | None = None
    request_id: str | None = None

    def provenance(self) -> dict[str, Any]:
        return {
            "event_time": self.event_time,
            "file_name": self.object_key.rsplit("/", 1)[-1],
            "uri": f"s3://{self.bucket}/{self.object_key}",
            "bucket": self.bucket,
            "object_key": self.object_key,
            "etag": self.etag,
            "version_id": self.version_id,
            "size_bytes": self.size_bytes,
            "content_type": self.content_type,
            "event_name": self.event_name,
            "origin": self.origin,
            "intake_event_id": self.id,
            "principal_id": self.principal_id,
            "source_ip": self.source_ip,
            "request_id": self.request_id,
        }

    def log_fields(self) -> dict[str, Any]:
        return {"event_id": self.id, "bucket": self.bucket, "key": self.object_key}


@dataclass
class Batch:
    """What the handling of a batch decided, written together by ``Processor._commit``."""

    rows: list[tuple[ClaimedEvent, Phase, Inspection]] = field(default_factory=list)
    removals: list[tuple[ClaimedEvent, Phase]] = field(default_factory=list)
    finished: list[tuple[ClaimedEvent, str | None]] = field(default_factory=list)
    """Events done without an audit row, with the note they keep."""
    postponed: list[tuple[ClaimedEvent, float, str]] = field(default_factory=list)
    """Events to try again after a delay (seconds), with the note they keep."""

    def __len__(self) -> int:
        return len(self.rows) + len(self.removals) + len(self.finished) + len(self.postponed)

    def singles(self) -> list[Batch]:
        """One batch per event, for writing them one by one."""
        return [
            *(Batch(rows=[row]) for row in self.rows),
            *(Batch(removals=[removal]) for removal in self.removals),
            *(Batch(finished=[finished]) for finished in self.finished),
            *(Batch(postponed=[postponed]) for postponed in self.postponed),
        ]


class Processor:
    """Handles stored events in batches; safe to run in many threads, processes and replicas."""

    def __init__(self, settings: Settings, pool: ConnectionPool, store: ObjectStore) -> None:
        self._settings = settings
        self._pool = pool
        self._store = store
        self._limits = InspectionLimits(
            max_scan_bytes=settings.max_scan_bytes,
            timeout_seconds=settings.inspect_timeout_seconds,
            csv_dialects=settings.csv_dialects,
            ignore_patterns=settings.ignore_patterns,
        )

    def process_batch(self) -> int:
        """Claim and handle one batch; returns how many events were handled (0: none due)."""
        claimed = self._claim()
        if not claimed:
            return 0
        cheap = [event for event in claimed if self._is_cheap(event)]
        large = [event for event in claimed if not self._is_cheap(event)]
        mine, given_back = cheap + large[:1], large[1:]
        renewal = LeaseRenewal(
            self._pool, self._settings.lease_seconds, self._settings.lease_renew_seconds
        )
        renewal.hold(mine)
        with renewal:
            if given_back:
                self._release(given_back)
            batch = Batch()
            for event in cheap:
                self._handle(event, batch)
            self._commit(batch)
            renewal.drop(cheap)
            if large:
                # Alone in its transaction: a long inspection holds nothing else back.
                batch = Batch()
                self._handle(large[0], batch)
                self._commit(batch)
        return len(mine)

    def process_next(self) -> bool:
        """Handle one claimable batch; False when there was nothing to do."""
        return self.process_batch() > 0

    def drain(self) -> int:
        """Process until nothing is claimable now; returns how many events were handled."""
        handled = 0

        def count() -> None:
            nonlocal handled
            handled += 1

        run_until_idle(self, count)
        return handled

    def check_pool(self) -> None:
        """After a database error: drop the pool's broken connections (no check per checkout)."""
        self._pool.check()

    def _is_cheap(self, claimed: ClaimedEvent) -> bool:
        """True when handling the event takes no long read: a small object, or no object."""
        if (
            claimed.event_kind == EventKind.REMOVED
            or claimed.attempts > self._settings.max_attempts
        ):
            return True
        if self._settings.phase_of(claimed.bucket) is None:
            return True
        return claimed.size_bytes is not None and claimed.size_bytes <= SMALL_OBJECT_BYTES

    def _claim(self) -> list[ClaimedEvent]:
        with self._pool.connection() as conn:
            cursor = conn.cursor(row_factory=class_row(ClaimedEvent))
            return cursor.execute(
                query("claim_events"),
                {
                    "lease_seconds": self._settings.lease_seconds,
                    "limit": self._settings.worker_batch_size,
                },
            ).fetchall()

    def _release(self, events: list[ClaimedEvent]) -> None:
        with self._pool.connection() as conn:
            conn.execute(
                query("release_events"),
                {"ids": [e.id for e in events], "attempts": [e.attempts for e in events]},
            )

    def _handle(self, claimed: ClaimedEvent, batch: Batch) -> None:
        phase = self._settings.phase_of(claimed.bucket)
        if claimed.attempts > self._settings.max_attempts:
            # Claimed this often, it keeps killing its worker (or the lease keeps running
            # out): record the failure instead of trying forever.
            self._record_failure(claimed, phase, "worker did not finish it", batch)
        elif phase is None:
            self._finish_without_row(claimed, "bucket is no longer mapped to a phase", batch)
        elif claimed.event_kind == EventKind.REMOVED:
            self._record_removal(claimed, phase, batch)
        else:
            self._record_creation(claimed, phase, batch)

    def _record_creation(self, claimed: ClaimedEvent, phase: Phase, batch: Batch) -> None:
        try:
            inspection, stat_size = self._inspect(claimed, phase)
        except Exception as exc:
            # Transient by nature (store or network), or a bug: both deserve a retry,
            # and a limit, after which the row says what went wrong.
            if not isinstance(exc, TransientError):
                logger.exception("unexpected error inspecting", extra=claimed.log_fields())
            if claimed.attempts < self._settings.max_attempts:
                self._postpone(claimed, f"{type(exc).__name__}: {exc}", batch)
                return
            GIVE_UPS.inc()
            inspection = Inspection.error(None, f"gave up after {claimed.attempts} attempts: {exc}")
        else:
            if claimed.size_bytes is None and stat_size is not None:
                # MinIO omits 'size' for a zero-byte object; the store's stat knows it.
                claimed = dataclasses.replace(claimed, size_bytes=stat_size)
        self._write_row(claimed, phase, inspection, batch)

    def _record_failure(
        self, claimed: ClaimedEvent, phase: Phase | None, why: str, batch: Batch
    ) -> None:
        GIVE_UPS.inc()
        with self._pool.connection() as conn:
            cause = audit.last_failure(conn, claimed.id)
        reason = f"gave up after {claimed.attempts - 1} attempts: {cause or why}"
        if phase is None or claimed.event_kind == EventKind.REMOVED:
            self._finish_without_row(claimed, reason, batch)
        else:
            self._write_row(claimed, phase, Inspection.error(None, reason), batch)

    def _write_row(
        self, claimed: ClaimedEvent, phase: Phase, inspection: Inspection, batch: Batch
    ) -> None:
        """The event gets its audit row (written by ``audit.record_batch`` at commit)."""
        batch.rows.append((claimed, phase, inspection))

    def _record_removal(self, claimed: ClaimedEvent, phase: Phase, batch: Batch) -> None:
        """The rows of the removed object are marked deleted (by ``audit.record_batch``)."""
        batch.removals.append((claimed, phase))

    def _finish_without_row(self, claimed: ClaimedEvent, note: str, batch: Batch) -> None:
        batch.finished.append((claimed, note))

    def _postpone(self, claimed: ClaimedEvent, reason: str, batch: Batch) -> None:
        RETRIES.inc()
        delay = backoff_seconds(claimed.attempts)
        note = storable_text(f"attempt {claimed.attempts} failed: {reason}")
        batch.postponed.append((claimed, delay, note))
        logger.warning(
            "transient failure, retrying in %.0f s: %s",
            delay,
            reason,
            extra={"action": "retry", **claimed.log_fields()},
        )

    def _inspect(self, claimed: ClaimedEvent, phase: Phase) -> tuple[Inspection, int | None]:
        """The verdict, and the object's size from the store when it is this version's."""
        small = claimed.size_bytes is not None and claimed.size_bytes <= SMALL_OBJECT_BYTES
        data: bytes | None = None
        try:
            if small:
                fetched = self._store.fetch(
                    claimed.bucket, claimed.object_key, claimed.version_id, SMALL_OBJECT_BYTES
                )
                info, data = fetched.info, fetched.data
            else:
                info = self._store.stat(claimed.bucket, claimed.object_key, claimed.version_id)
        except ObjectMissing:
            return Inspection.skipped(None, "object was removed before it could be inspected"), None
        except ObjectUnreadable as exc:
            return Inspection.error(None, str(exc)), None
        if claimed.etag and info.etag and claimed.etag != info.etag and not claimed.version_id:
            # Without versioning the bytes of this upload are gone; the overwrite that
            # replaced them has an event of its own and gets its own row.
            overwritten = "object was overwritten before it could be inspected"
            return Inspection.skipped(None, overwritten), None
        source = self._source(claimed, info, data)
        try:
            verdict = inspect_object(phase, source, self._limits, self._settings.path_templates)
        except ObjectMissing:
            return Inspection.skipped(None, "object was removed while it was being inspected"), None
        except ObjectUnreadable as exc:
            return Inspection.error(None, str(exc)), info.size
        return verdict, info.size

    def _source(self, claimed: ClaimedEvent, info: ObjectInfo, data: bytes | None) -> ObjectSource:
        if data is None:
            return self._store.source(claimed.bucket, claimed.object_key, info)
        return BytesSource(
            data,
            key=claimed.object_key,
            bucket=claimed.bucket,
            content_type=info.content_type,
            user_metadata=info.user_metadata,
        )

    def _commit(self, batch: Batch) -> None:
        """Write the batch in one transaction; when the database refuses it for what one
        event holds (not an outage), write its events one by one so that only that event
        is left to its lease and retries."""
        try:
            self._commit_together(batch)
        except psycopg.Error as exc:
            if is_outage(exc) or len(batch) == 1:
                raise
            logger.warning("database refused a batch; writing its events one by one")
            for single in batch.singles():
                try:
                    self._commit_together(single)
                except psycopg.Error as single_exc:
                    if is_outage(single_exc):
                        raise
                    logger.exception("database refused an event's outcome; left to its lease")

    def _commit_together(self, batch: Batch) -> None:
        """Write the batch's rows, removal marks, done marks and postponements in one
        transaction; rows only for the events this worker still holds."""
        if not len(batch):
            return
        done = [
            *((c, None) for c, _, _ in batch.rows),
            *((c, None) for c, _ in batch.removals),
            *batch.finished,
        ]
        with self._pool.connection() as conn, conn.transaction():
            held = self._finish(conn, done)
            outcome = audit.record_batch(
                conn,
                [
                    audit.PendingRow(phase, claimed.provenance(), inspection)
                    for claimed, phase, inspection in batch.rows
                    if claimed.id in held
                ],
                [
                    audit.PendingRemoval(
                        phase,
                        bucket=claimed.bucket,
                        key=claimed.object_key,
                        event_name=claimed.event_name,
                        version_id=claimed.version_id,
                        intake_event_id=claimed.id,
                    )
                    for claimed, phase in batch.removals
                    if claimed.id in held
                ],
            )
            marked = {event_id: removal.note for event_id, removal in outcome.removals.items()}
            if marked:
                conn.execute(
                    query("set_event_notes"), {"ids": list(marked), "notes": list(marked.values())}
                )
            if batch.postponed:
                conn.execute(
                    query("postpone_events"),
                    {
                        "ids": [c.id for c, _, _ in batch.postponed],
                        "attempts": [c.attempts for c, _, _ in batch.postponed],
                        "delays": [delay for _, delay, _ in batch.postponed],
                        "notes": [note for _, _, note in batch.postponed],
                    },
                )
        written = [
            (claimed, phase, outcome.written.get(claimed.id, inspection))
            for claimed, phase, inspection in batch.rows
            if claimed.id in held
        ]
        for claimed, _ in done:
            if claimed.id not in held:
                logger.warning(
                    "lease lost on event %s; another worker has it",
                    claimed.id,
                    extra=claimed.log_fields(),
                )
        for _, phase, inspection in written:
            AUDIT_ROWS.labels(phase.short_name, inspection.estado).inc()
        if len(written) <= INLINE_ANALYSIS_MAX_ROWS:
            # After the commit, the batch's rows together in one transaction; never raises
            # (notifier.analysis).
            analysis.on_rows_written(
                self._pool, self._settings.analysis, [(p, c.id) for c, p, _ in written]
            )
        self._log_outcomes(batch, written, marked)

    def _finish(
        self, conn: psycopg.Connection[Any], done: list[tuple[ClaimedEvent, str | None]]
    ) -> set[int]:
        """Mark events done while the claim is still ours; returns the ids marked."""
        if not done:
            return set()
        rows = conn.execute(
            query("finish_events"),
            {
                "ids": [c.id for c, _ in done],
                "attempts": [c.attempts for c, _ in done],
                "notes": [note for _, note in done],
            },
        ).fetchall()
        return {row[0] for row in rows}

    def _log_outcomes(
        self,
        batch: Batch,
        written: list[tuple[ClaimedEvent, Phase, Inspection]],
        marked: dict[int, str],
    ) -> None:
        if not logger.isEnabledFor(logging.INFO):
            return
        for claimed, phase, inspection in written:
            logger.info(
                "audited %s: %s rows=%s",
                phase.value,
                inspection.estado,
                inspection.num_registros,
                extra={"action": "audit", **claimed.log_fields(), "reason": inspection.reason},
            )
        for claimed, _ in batch.removals:
            if claimed.id in marked:
                logger.info(
                    "removal recorded: %s",
                    marked[claimed.id],
                    extra={"action": "delete", **claimed.log_fields()},
                )


def run_worker_loop(
    processor: Processor, stop: threading.Event, on_beat: Callable[[], None] | None = None
) -> None:
    """Process events until ``stop`` is set; survives database and store outages.

    ``on_beat`` is called once per loop, before each claim (the liveness heartbeat).
    """
    while not stop.is_set():
        if on_beat is not None:
            on_beat()
        try:
            handled = processor.process_batch()
        except (psycopg.OperationalError, PoolTimeout) as exc:
            DATABASE_ERRORS.labels("worker").inc()
            logger.warning("database unavailable, retrying: %s", type(exc).__name__)
            _check_pool(processor)
            stop.wait(DATABASE_RETRY_SECONDS)
            continue
        except Exception:
            logger.exception("unexpected error while processing; continuing")
            stop.wait(DATABASE_RETRY_SECONDS)
            continue
        if not handled:
            stop.wait(IDLE_POLL_SECONDS)


def _check_pool(processor: Processor) -> None:
    try:
        processor.check_pool()
    except Exception as exc:  # the database may still be down: the next batch tells
        logger.debug("pool check failed: %s", type(exc).__name__)


def run_until_idle(processor: Processor, on_event: Callable[[], None] | None = None) -> None:
    """Process events until none is claimable now (events waiting for a retry stay)."""
    while True:
        handled = processor.process_batch()
        if not handled:
            return
        if on_event is not None:
            for _ in range(handled):
                on_event()


def start_workers(
    processor: Processor,
    count: int,
    stop: threading.Event,
    on_beat: Callable[[], None] | None = None,
) -> list[threading.Thread]:
    threads = [
        threading.Thread(
            target=run_worker_loop,
            args=(processor, stop, on_beat),
            name=f"notifier-worker-{n}",
            daemon=True,
        )
        for n in range(count)
    ]
    for thread in threads:
        thread.start()
    return threads
