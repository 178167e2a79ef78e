"""Reconcile: compare each bucket's listing with its audit rows, and repair the drift.

The listing is streamed into a temporary table with COPY and compared in SQL, so
notifier's memory stays flat whatever the bucket's size, and no assumption is made
about the order in which a store lists keys.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from psycopg import sql
from psycopg_pool import ConnectionPool

from notifier import audit
from notifier.db import query
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
    """The object's etag differs from the newest audit row's: a version went unaudited."""


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
        """Drift between one bucket and its phase table."""
        statement = sql.SQL(query("listing_drift")).format(table=sql.Identifier(phase.value))
        with database_errors(), self._pool.connection() as conn, conn.transaction():
            conn.execute(query("create_listing"))
            with conn.cursor().copy(query("copy_listing")) as copy:
                for listed in self._store.list(bucket, prefix or None):
                    copy.write_row((listed.key, listed.etag))
            rows = conn.execute(statement, {"bucket": bucket, "prefix": prefix}).fetchall()
        return [Drift(DriftKind(kind), bucket, key, obj, aud) for kind, key, obj, aud in rows]

    def mark_gone(self, drifts: Sequence[Drift], phase: Phase) -> int:
        """Record that these objects were deleted; the rows themselves are kept."""
        now = datetime.now(UTC)
        marked = 0
        with database_errors(), self._pool.connection() as conn, conn.transaction():
            for drift in drifts:
                marked += audit.mark_deleted(
                    conn,
                    phase,
                    bucket=drift.bucket,
                    key=drift.key,
                    version_id=None,
                    deleted_at=now,
                )
        logger.info("marked %d audit row(s) of removed objects", marked)
        return marked
