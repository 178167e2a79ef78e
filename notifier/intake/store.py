"""The durable intake store: events are committed here before the sender is answered."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool, PoolTimeout

from notifier.db import query
from notifier.errors import DatabaseUnavailable, PayloadError
from notifier.intake.model import ObjectEvent, Origin
from notifier.metrics import DATABASE_ERRORS, DEAD_LETTERS, UNMAPPED_EVENTS
from notifier.phases import Phase

logger = logging.getLogger(__name__)

DEAD_LETTER_PREVIEW_CHARS = 200


@dataclass(frozen=True)
class IntakeResult:
    accepted: int
    """Events stored for the first time."""
    duplicates: int
    """Events already stored: a redelivery, acknowledged again and otherwise ignored."""
    unmapped: int
    """Events stored but not audited: their bucket maps to no phase."""
    stored_ids: tuple[int, ...] = ()


@contextmanager
def database_errors() -> Iterator[None]:
    """Turn 'the database is unreachable' into DatabaseUnavailable, at this boundary."""
    try:
        yield
    except (psycopg.OperationalError, PoolTimeout) as exc:
        DATABASE_ERRORS.labels("intake").inc()
        raise DatabaseUnavailable(f"database unavailable: {type(exc).__name__}") from exc


def store_events(
    pool: ConnectionPool,
    events: Sequence[ObjectEvent],
    phase_of: Callable[[str], Phase | None],
) -> IntakeResult:
    """Store every event in one transaction: all are kept, or none and the sender retries."""
    try:
        return _store_events(pool, events, phase_of)
    except psycopg.DataError as exc:
        # e.g. a NUL character, which PostgreSQL text and jsonb cannot hold.
        raise PayloadError(f"event cannot be stored: {exc}") from exc


def _store_events(
    pool: ConnectionPool,
    events: Sequence[ObjectEvent],
    phase_of: Callable[[str], Phase | None],
) -> IntakeResult:
    accepted = duplicates = unmapped = 0
    stored_ids: list[int] = []
    with database_errors(), pool.connection() as conn, conn.transaction():
        for event in events:
            mapped = phase_of(event.bucket) is not None
            row = conn.execute(query("insert_intake_event"), _params(event, mapped)).fetchone()
            if row is None:
                duplicates += 1
                continue
            accepted += 1
            if not mapped:
                unmapped += 1
                UNMAPPED_EVENTS.labels(event.bucket).inc()
            stored_ids.append(row[0])
            logger.log(
                logging.DEBUG if event.origin is Origin.RESCAN else logging.INFO,
                "event stored",
                extra={
                    "action": "intake",
                    "event_id": row[0],
                    "bucket": event.bucket,
                    "key": event.key,
                    "event_name": event.event_name,
                    "status": "pending" if mapped else "ignored: bucket not mapped",
                },
            )
    return IntakeResult(
        accepted=accepted, duplicates=duplicates, unmapped=unmapped, stored_ids=tuple(stored_ids)
    )


def store_dead_letter(
    pool: ConnectionPool,
    *,
    reason: str,
    body: bytes,
    content_type: str | None,
    remote_addr: str | None,
) -> int:
    """Keep a body notifier could not understand, verbatim, with the reason."""
    text = body.decode("utf-8", errors="backslashreplace").replace("\x00", "\\x00")
    with database_errors(), pool.connection() as conn:
        row = conn.execute(
            query("insert_dead_letter"),
            {
                "reason": reason,
                "content_type": content_type,
                "body": text,
                "remote_addr": remote_addr,
            },
        ).fetchone()
    assert row is not None
    dead_letter_id: int = row[0]
    DEAD_LETTERS.inc()
    logger.warning(
        "body dead-lettered: %s",
        reason,
        extra={"action": "dead_letter", "dead_letter_id": dead_letter_id},
    )
    return dead_letter_id


def _params(event: ObjectEvent, mapped: bool) -> Mapping[str, Any]:
    if not mapped:
        status, note = "ignored", "bucket is not mapped to a phase"
    elif event.is_folder_marker:
        status, note = "ignored", "folder marker (a zero-byte key ending in '/'), not an object"
    else:
        status, note = "pending", None
    return {
        "dedup_key": event.dedup_key,
        "sender": event.sender,
        "origin": event.origin.value,
        "event_name": event.event_name,
        "event_kind": event.kind.value,
        "bucket": event.bucket,
        "object_key": event.key,
        "event_time": event.event_time,
        "etag": event.etag,
        "version_id": event.version_id,
        "size_bytes": event.size,
        "content_type": event.content_type,
        "sequencer": event.sequencer,
        "user_metadata": Jsonb(dict(event.user_metadata)),
        "payload": Jsonb(event.payload),
        "principal_id": event.writer.principal_id,
        "source_ip": event.writer.source_ip,
        "request_id": event.writer.request_id,
        "status": status,
        "note": note,
    }


__all__ = ["IntakeResult", "store_dead_letter", "store_events"]
