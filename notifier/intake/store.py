"""The durable intake store: events are committed here before the sender is answered."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, TypeVar
from weakref import WeakKeyDictionary

import psycopg
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool, PoolTimeout

from notifier.db import query
from notifier.errors import DatabaseUnavailable, PayloadError
from notifier.intake.group_commit import CommitGroup
from notifier.intake.model import RESCAN_EVENT_NAME, RESCAN_SENDER, ObjectEvent, dedup_key
from notifier.metrics import DATABASE_ERRORS, DEAD_LETTERS, UNMAPPED_EVENTS
from notifier.phases import Phase

if TYPE_CHECKING:
    from notifier.storage import ListedObject

logger = logging.getLogger(__name__)

DEAD_LETTER_PREVIEW_CHARS = 200
_T = TypeVar("_T")


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
    """Store every event in one statement: all are kept, or none and the sender retries.

    One round trip whatever the number of events: a single-row INSERT for one event, a
    multi-row INSERT over arrays for more, each atomic on its own (autocommit). Bodies of
    up to ``GROUPED_EVENTS_MAX`` events share their statement and commit with concurrent
    requests (``group_commit``). A connection the database dropped (a restart) is
    discarded and the statement tried once more on a fresh one; ON CONFLICT DO NOTHING
    makes the retry harmless.
    """
    if not events:
        return IntakeResult(accepted=0, duplicates=0, unmapped=0)
    mapped = [phase_of(event.bucket) is not None for event in events]
    rows = [_params(event, is_mapped) for event, is_mapped in zip(events, mapped, strict=True)]
    if len(rows) <= GROUPED_EVENTS_MAX:
        inserted = _stored(pool, lambda: _group_of(pool).store(rows), retry=False)
    else:
        inserted = _stored(pool, lambda: _insert(pool, rows))
    return _result(events, mapped, inserted)


def _stored(pool: ConnectionPool, insert: Callable[[], _T], *, retry: bool = True) -> _T:
    """``insert()``, at the intake boundary: with ``retry``, once more on a fresh
    connection after the database dropped one (a restart; ON CONFLICT DO NOTHING makes
    the retry harmless; a CommitGroup retries on its own); an unreachable database is
    DatabaseUnavailable, a value PostgreSQL refuses (e.g. a NUL character, which text
    and jsonb cannot hold) a PayloadError."""
    try:
        with database_errors():
            try:
                return insert()
            except psycopg.OperationalError:
                if not retry:
                    raise
                pool.check()  # drop the other connections broken by the same restart
                return insert()
    except psycopg.DataError as exc:
        raise PayloadError(f"event cannot be stored: {exc}") from exc


GROUPED_EVENTS_MAX: Final = 50
"""Bodies up to this many events go through the pool's CommitGroup; larger ones (rescan
pages, big batches) are a group of their own already."""

_groups: WeakKeyDictionary[ConnectionPool, CommitGroup] = WeakKeyDictionary()
_groups_lock = threading.Lock()


def _group_of(pool: ConnectionPool) -> CommitGroup:
    with _groups_lock:
        group = _groups.get(pool)
        if group is None:
            group = _groups[pool] = CommitGroup(pool, _insert)
        return group


def _insert(pool: ConnectionPool, rows: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """One statement, autocommit: the id of each row inserted, by dedup_key."""
    with pool.connection() as conn:
        if len(rows) == 1:
            row = conn.execute(query("insert_intake_event"), rows[0]).fetchone()
            return {} if row is None else {rows[0]["dedup_key"]: row[0]}
        columns = {name: [r[name] for r in rows] for name in rows[0]}
        found = conn.execute(query("insert_intake_events"), columns).fetchall()
    return {dedup_key: event_id for event_id, dedup_key in found}


def _result(
    events: Sequence[ObjectEvent], mapped: Sequence[bool], inserted: dict[str, int]
) -> IntakeResult:
    accepted = unmapped = 0
    stored_ids: list[int] = []
    debug = logger.isEnabledFor(logging.DEBUG)
    for event, is_mapped in zip(events, mapped, strict=True):
        event_id = inserted.pop(event.dedup_key, None)
        if event_id is None:
            continue  # already stored, or a repeat within this body
        accepted += 1
        if not is_mapped:
            unmapped += 1
            UNMAPPED_EVENTS.labels(event.bucket).inc()
        stored_ids.append(event_id)
        if debug:
            logger.debug(
                "event stored",
                extra={
                    "action": "intake",
                    "event_id": event_id,
                    "bucket": event.bucket,
                    "key": event.key,
                    "event_name": event.event_name,
                    "status": "pending" if is_mapped else "ignored: bucket not mapped",
                },
            )
    return IntakeResult(
        accepted=accepted,
        duplicates=len(events) - accepted,
        unmapped=unmapped,
        stored_ids=tuple(stored_ids),
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


UNMAPPED_NOTE: Final = "bucket is not mapped to a phase"
FOLDER_MARKER_NOTE: Final = "folder marker (a zero-byte key ending in '/'), not an object"


def store_listed(
    pool: ConnectionPool,
    bucket: str,
    listed: Sequence[ListedObject],
    *,
    mapped: bool,
    retry_of: Sequence[int | None] | None = None,
) -> tuple[int, ...]:
    """Store the rescan event of each listed object version in one statement; returns the
    ids of the events stored (a version already stored is skipped, as by store_events).

    The rows are those ``store_events`` stores for ``rescan_event(bucket, o, retry_of)``
    (notifier.backfill.rescan), built without an event object, a parameter mapping or a
    JSON document per object: a listing page of a thousand objects costs a few list
    comprehensions and one hash per object. ``retry_of`` gives, per object, the intake
    event whose error row the new event supersedes (its sequencer is ``retry:<id>``).
    """
    if not listed:
        return ()
    times = [o.last_modified.isoformat() for o in listed]
    sequencers: list[str | None] = (
        [None] * len(listed)
        if retry_of is None
        else [None if r is None else f"retry:{r}" for r in retry_of]
    )
    keys = [o.key for o in listed]
    etags = [o.etag for o in listed]
    versions = [o.version_id for o in listed]
    params = {
        "sender": RESCAN_SENDER,
        "event_name": RESCAN_EVENT_NAME,
        "bucket": bucket,
        "dedup_key": [
            dedup_key("created", bucket, key, version, sequencer or time, etag)
            for key, version, sequencer, time, etag in zip(
                keys, versions, sequencers, times, etags, strict=True
            )
        ],
        "object_key": keys,
        "last_modified": times,
        "etag": etags,
        "version_id": versions,
        "size_bytes": [o.size for o in listed],
        "sequencer": sequencers,
        "unmapped_note": None if mapped else UNMAPPED_NOTE,
        "folder_note": FOLDER_MARKER_NOTE,
    }

    def insert() -> list[int]:
        with pool.connection() as conn:
            rows = conn.execute(query("insert_listed_objects"), params).fetchall()
        return [event_id for (event_id,) in rows]

    ids = _stored(pool, insert)
    if not mapped and ids:
        UNMAPPED_EVENTS.labels(bucket).inc(len(ids))
    logger.debug(
        "%d of %d listed objects stored",
        len(ids),
        len(listed),
        extra={"action": "intake", "bucket": bucket, "sender": RESCAN_SENDER},
    )
    return tuple(ids)


def _params(event: ObjectEvent, mapped: bool) -> Mapping[str, Any]:
    if not mapped:
        status, note = "ignored", UNMAPPED_NOTE
    elif event.is_folder_marker:
        status, note = "ignored", FOLDER_MARKER_NOTE
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


__all__ = ["IntakeResult", "store_dead_letter", "store_events", "store_listed"]
