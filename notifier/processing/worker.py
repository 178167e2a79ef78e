"""Processing: claim a stored event, inspect its object, write its audit row.

Inspection runs outside any transaction (it may read a large object for minutes);
the audit row and the event's 'done' mark are then written in one transaction, and
only while the claim is still this worker's.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import psycopg
from psycopg.rows import class_row
from psycopg_pool import ConnectionPool, PoolTimeout

from notifier import analysis, audit
from notifier.audit.storable import storable_text
from notifier.config import Settings
from notifier.db import query
from notifier.errors import TransientError
from notifier.inspection import Inspection, InspectionLimits, inspect_object
from notifier.intake.model import EventKind
from notifier.metrics import AUDIT_ROWS, DATABASE_ERRORS, GIVE_UPS, RETRIES
from notifier.phases import Phase
from notifier.storage import ObjectMissing, ObjectStore, ObjectUnreadable

logger = logging.getLogger(__name__)

IDLE_POLL_SECONDS: Final = 0.25
"""How often an idle worker looks for new events; keeps rows within a second of upload."""

BACKOFF_BASE_SECONDS: Final = 5.0
BACKOFF_MAX_SECONDS: Final = 300.0
DATABASE_RETRY_SECONDS: Final = 2.0


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


class Processor:
    """Handles stored events one at a time; safe to run in many threads and replicas."""

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

    def process_next(self) -> bool:
        """Handle one claimable event; False when there was none."""
        claimed = self._claim()
        if claimed is None:
            return False
        phase = self._settings.phase_of(claimed.bucket)
        if claimed.attempts > self._settings.max_attempts:
            # Claimed this often, it keeps killing its worker (or the lease keeps running
            # out): record the failure instead of trying forever.
            self._record_failure(claimed, phase, "worker did not finish it")
        elif phase is None:
            self._finish_without_row(claimed, "bucket is no longer mapped to a phase")
        elif claimed.event_kind == EventKind.REMOVED:
            self._record_removal(claimed, phase)
        else:
            self._record_creation(claimed, phase)
        return True

    def drain(self) -> int:
        """Process until nothing is claimable now; returns how many events were handled."""
        handled = 0

        def count() -> None:
            nonlocal handled
            handled += 1

        run_until_idle(self, count)
        return handled

    def _claim(self) -> ClaimedEvent | None:
        with self._pool.connection() as conn:
            cursor = conn.cursor(row_factory=class_row(ClaimedEvent))
            return cursor.execute(
                query("claim_event"), {"lease_seconds": self._settings.lease_seconds}
            ).fetchone()

    def _record_creation(self, claimed: ClaimedEvent, phase: Phase) -> None:
        try:
            inspection, stat_size = self._inspect(claimed, phase)
        except Exception as exc:
            # Transient by nature (store or network), or a bug: both deserve a retry,
            # and a limit, after which the row says what went wrong.
            if not isinstance(exc, TransientError):
                logger.exception("unexpected error inspecting", extra=claimed.log_fields())
            if claimed.attempts < self._settings.max_attempts:
                self._postpone(claimed, f"{type(exc).__name__}: {exc}")
                return
            GIVE_UPS.inc()
            inspection = Inspection.error(None, f"gave up after {claimed.attempts} attempts: {exc}")
        else:
            if claimed.size_bytes is None and stat_size is not None:
                # MinIO omits 'size' for a zero-byte object; the store's stat knows it.
                claimed = dataclasses.replace(claimed, size_bytes=stat_size)
        self._write_row(claimed, phase, inspection)

    def _record_failure(self, claimed: ClaimedEvent, phase: Phase | None, why: str) -> None:
        GIVE_UPS.inc()
        with self._pool.connection() as conn:
            cause = audit.last_failure(conn, claimed.id)
        reason = f"gave up after {claimed.attempts - 1} attempts: {cause or why}"
        if phase is None or claimed.event_kind == EventKind.REMOVED:
            self._finish_without_row(claimed, reason)
        else:
            self._write_row(claimed, phase, Inspection.error(None, reason))

    def _write_row(self, claimed: ClaimedEvent, phase: Phase, inspection: Inspection) -> None:
        try:
            with self._pool.connection() as conn, conn.transaction():
                audit.insert_row(conn, phase, claimed.provenance(), inspection)
                self._finish(conn, claimed, note=None)
        except audit.UnstorableRow as exc:
            # Never a retry: the same row would be refused again. An error row, now.
            logger.warning("audit row refused: %s", exc, extra=claimed.log_fields())
            inspection = audit.unstorable(inspection, exc)
            with self._pool.connection() as conn, conn.transaction():
                audit.insert_row(conn, phase, claimed.provenance(), inspection)
                self._finish(conn, claimed, note=None)
        AUDIT_ROWS.labels(phase.short_name, inspection.estado).inc()
        analysis.on_row_written(self._pool, self._settings.analysis, phase, claimed.id)
        logger.info(
            "audited %s: %s rows=%s",
            phase.value,
            inspection.estado,
            inspection.num_registros,
            extra={"action": "audit", **claimed.log_fields(), "reason": inspection.reason},
        )

    def _inspect(self, claimed: ClaimedEvent, phase: Phase) -> tuple[Inspection, int | None]:
        """The verdict, and the object's size from the store when it is this version's."""
        try:
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
        source = self._store.source(claimed.bucket, claimed.object_key, info)
        try:
            return (
                inspect_object(phase, source, self._limits, self._settings.path_templates),
                info.size,
            )
        except ObjectMissing:
            return Inspection.skipped(None, "object was removed while it was being inspected"), None
        except ObjectUnreadable as exc:
            return Inspection.error(None, str(exc)), info.size

    def _record_removal(self, claimed: ClaimedEvent, phase: Phase) -> None:
        with self._pool.connection() as conn, conn.transaction():
            outcome = audit.record_removal(
                conn,
                phase,
                bucket=claimed.bucket,
                key=claimed.object_key,
                event_name=claimed.event_name,
                version_id=claimed.version_id,
                intake_event_id=claimed.id,
            )
            self._finish(conn, claimed, note=outcome.note)
        logger.info(
            "removal recorded: %s",
            outcome.note,
            extra={"action": "delete", **claimed.log_fields()},
        )

    def _finish_without_row(self, claimed: ClaimedEvent, note: str) -> None:
        with self._pool.connection() as conn, conn.transaction():
            self._finish(conn, claimed, note=note)

    def _finish(
        self, conn: psycopg.Connection[Any], claimed: ClaimedEvent, note: str | None
    ) -> None:
        cursor = conn.execute(
            query("finish_event"), {"id": claimed.id, "attempts": claimed.attempts, "note": note}
        )
        if cursor.rowcount != 1:
            # Our lease ran out and another worker holds the event: undo our row.
            raise LeaseLost(claimed.id)

    def _postpone(self, claimed: ClaimedEvent, reason: str) -> None:
        RETRIES.inc()
        delay = backoff_seconds(claimed.attempts)
        with self._pool.connection() as conn:
            conn.execute(
                query("postpone_event"),
                {
                    "id": claimed.id,
                    "attempts": claimed.attempts,
                    "delay_seconds": delay,
                    "note": storable_text(f"attempt {claimed.attempts} failed: {reason}"),
                },
            )
        logger.warning(
            "transient failure, retrying in %.0f s: %s",
            delay,
            reason,
            extra={"action": "retry", **claimed.log_fields()},
        )


class LeaseLost(Exception):
    """Raised inside the finishing transaction to roll it back."""


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
            handled = processor.process_next()
        except LeaseLost as exc:
            logger.warning("lease lost on event %s; another worker has it", exc.args[0])
            continue
        except (psycopg.OperationalError, PoolTimeout) as exc:
            DATABASE_ERRORS.labels("worker").inc()
            logger.warning("database unavailable, retrying: %s", type(exc).__name__)
            stop.wait(DATABASE_RETRY_SECONDS)
            continue
        except Exception:
            logger.exception("unexpected error while processing; continuing")
            stop.wait(DATABASE_RETRY_SECONDS)
            continue
        if not handled:
            stop.wait(IDLE_POLL_SECONDS)


def run_until_idle(processor: Processor, on_event: Callable[[], None] | None = None) -> None:
    """Process events until none is claimable now (events waiting for a retry stay)."""
    while True:
        try:
            handled = processor.process_next()
        except LeaseLost:
            continue
        if not handled:
            return
        if on_event is not None:
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
