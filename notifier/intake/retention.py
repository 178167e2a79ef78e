"""Raw-event retention: drop the verbatim payload of events processed long ago.

``intake_events.payload`` keeps each sender's record for forensics and replay; after a
set age (NOTIFIER_EVENT_RETENTION_DAYS, applied by ``notifier events prune``) it is set
to NULL and ``payload_pruned_at`` records when. Nothing else changes: every event row
stays, with its dedup_key and the columns the audit rows point at, so a late
redelivery is still recognised as a duplicate, and every audit row is kept. Events not
yet processed (pending, processing) are never touched.

The table is walked in id order in batches, each its own short transaction, so a
prune never holds many row locks nor one long transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from psycopg.rows import class_row
from psycopg_pool import ConnectionPool

from notifier.db import query
from notifier.intake.store import database_errors

logger = logging.getLogger(__name__)

PRUNE_BATCH_SIZE: Final = 5000
"""Rows looked at per transaction."""


@dataclass(frozen=True)
class PruneBatch:
    last_id: int | None
    pruned: int
    earliest: datetime | None


@dataclass(frozen=True)
class PruneResult:
    pruned: int
    """Payloads dropped (or, in a dry run, that would be)."""
    before: datetime
    dry_run: bool


def prune_payloads(
    pool: ConnectionPool,
    before: datetime,
    *,
    dry_run: bool = False,
    batch_size: int = PRUNE_BATCH_SIZE,
) -> PruneResult:
    """Drop the payloads of events processed before ``before`` (timezone-aware).

    Raises DatabaseUnavailable when the database cannot be reached; batches already
    done stay done, and a second run carries on.
    """
    if before.tzinfo is None:
        raise ValueError("before must be timezone-aware")
    after, total = 0, 0
    while True:
        with database_errors(), pool.connection() as conn:
            cursor = conn.cursor(row_factory=class_row(PruneBatch))
            batch = cursor.execute(
                query("prune_payload_batch"),
                {"after": after, "before": before, "batch_size": batch_size, "dry_run": dry_run},
            ).fetchone()
        assert batch is not None
        total += batch.pruned
        if batch.last_id is None or batch.earliest is None or batch.earliest >= before:
            break
        after = batch.last_id
    logger.info(
        "%s %d event payload(s) processed before %s",
        "would prune" if dry_run else "pruned",
        total,
        before.isoformat(),
        extra={"action": "prune"},
    )
    return PruneResult(pruned=total, before=before, dry_run=dry_run)


__all__ = ["PRUNE_BATCH_SIZE", "PruneResult", "prune_payloads"]
