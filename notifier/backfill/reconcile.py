"""Reconcile: compare each bucket's listing with its audit rows, and repair the drift.

The listing is streamed into a temporary table with COPY and compared in SQL, so
notifier's memory stays flat whatever the bucket's size, and no assumption is made
about the order in which a store lists keys.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from psycopg_pool import ConnectionPool

from notifier.audit.removals import RECONCILE_REMOVAL_NAME
from notifier.db import query
from notifier.intake.model import EventKind, ObjectEvent, Origin
from notifier.intake.store import database_errors
from notifier.phases import Phase
from notifier.storage import ObjectStore

logger = logging.getLogger(__name__)


class DriftKind(StrEnum):
    MISSING = "missing"
    """The object exists, but no audit row records it."""
    GONE = "gone"
    """An audit row says the object exists, but the bucket no longer has it."""
    CHANGED = "changed"
    """The object's etag differs from its current audit row's: a version went unaudited."""
    ERROR = "error"
    """The current audit row is an error with a transient cause: worth inspecting again."""


@dataclass(frozen=True)
class Drift:
    kind: DriftKind
    bucket: str
    key: str
    object_etag: str | None
    audited_etag: str | None

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "kind": self.kind.value}


class Reconciler:
    def __init__(self, pool: ConnectionPool, store: ObjectStore) -> None:
        self._pool = pool
        self._store = store

    def find(self, bucket: str, phase: Phase, prefix: str = "") -> list[Drift]:
        """Drift between one bucket's listing and the current objects of ``live_objects``."""
        with database_errors(), self._pool.connection() as conn, conn.transaction():
            conn.execute(query("create_listing"))
            with conn.cursor().copy(query("copy_listing")) as copy:
                for listed in self._store.list(bucket, prefix or None):
                    copy.write_row((listed.key, listed.etag))
            rows = conn.execute(
                query("listing_drift"),
                {"phase": phase.short_name, "bucket": bucket, "prefix": prefix},
            ).fetchall()
        return [Drift(DriftKind(kind), bucket, key, obj, aud) for kind, key, obj, aud in rows]


def gone_event(bucket: str, key: str, moment: datetime | None = None) -> ObjectEvent:
    """The removal recorded for an object reconcile found gone from its bucket.

    It goes through intake and the workers like any removal, so the key's state stays
    derived from its events (notifier.audit.versions); its effect is
    notifier.audit.removals.RECONCILE_REMOVAL_NAME's.
    """
    when = moment or datetime.now(UTC)
    return ObjectEvent(
        sender="reconcile",
        event_name=RECONCILE_REMOVAL_NAME,
        kind=EventKind.REMOVED,
        bucket=bucket,
        key=key,
        event_time=when,
        payload={"key": key, "reconciled_at": when.isoformat()},
        origin=Origin.RESCAN,
    )
