"""Dead letters: bodies kept because notifier could not read them, retried after a fix."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from notifier.config import Settings
from notifier.db import query
from notifier.errors import PayloadError
from notifier.intake.parse import parse_body
from notifier.intake.store import database_errors, store_events

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryOutcome:
    dead_letter_id: int
    stored: int
    reason: str | None
    """Why it still cannot be read; None when its events are now stored."""


def list_dead_letters(
    pool: ConnectionPool, *, include_retried: bool, limit: int
) -> list[dict[str, Any]]:
    with database_errors(), pool.connection() as conn:
        cursor = conn.cursor(row_factory=dict_row)
        return cursor.execute(
            query("list_dead_letters"), {"include_retried": include_retried, "limit": limit}
        ).fetchall()


def retry_dead_letters(
    pool: ConnectionPool, settings: Settings, ids: Sequence[int] | None
) -> list[RetryOutcome]:
    """Parse each waiting body again (after a fix in notifier) and store what it holds."""
    with database_errors(), pool.connection() as conn:
        letters = conn.execute(
            query("dead_letters_to_retry"), {"ids": list(ids) if ids else None}
        ).fetchall()
    outcomes = []
    for dead_letter_id, body, _content_type, _remote in letters:
        outcomes.append(_retry_one(pool, settings, dead_letter_id, body))
    return outcomes


def _retry_one(
    pool: ConnectionPool, settings: Settings, dead_letter_id: int, body: str
) -> RetryOutcome:
    try:
        parsed = parse_body(body.encode("utf-8", errors="surrogateescape"))
        if parsed.subscription is not None:
            raise PayloadError("an SNS subscription confirmation: confirm it by hand")
        result = store_events(pool, parsed.events, settings.phase_of)
    except PayloadError as exc:
        return RetryOutcome(dead_letter_id, 0, str(exc))
    with database_errors(), pool.connection() as conn:
        conn.execute(query("mark_dead_letter_retried"), {"id": dead_letter_id})
    logger.info("dead letter %d retried: %d event(s) stored", dead_letter_id, result.accepted)
    return RetryOutcome(dead_letter_id, result.accepted, None)


def purge_dead_letters(pool: ConnectionPool, before: datetime) -> int:
    with database_errors(), pool.connection() as conn:
        return conn.execute(query("purge_dead_letters"), {"before": before}).rowcount
