"""Analysis: datasets, runs, lineage and anomalies derived from the audit rows.

``on_row_written`` is the one call processing makes after it commits a row; it never
raises. ``analyze`` recomputes a time range (``notifier analyze``); ``refresh``
re-judges what depends on the clock (``notifier report``).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from psycopg.errors import LockNotAvailable
from psycopg_pool import ConnectionPool

from notifier.analysis.engine import Refreshed, Summary, analyze, analyze_written, refresh
from notifier.config import AnalysisSettings
from notifier.phases import Phase

logger = logging.getLogger(__name__)


def on_row_written(
    pool: ConnectionPool, settings: AnalysisSettings, phase: Phase, intake_event_id: int
) -> None:
    """Analyse the row just written for an event, in its own transaction.

    Called after the row's transaction committed; a failure is logged and left to
    ``notifier analyze``, never raised into processing.
    """
    try:
        with pool.connection() as conn:
            analyze_written(conn, settings, phase.short_name, intake_event_id, datetime.now(UTC))
    except LockNotAvailable:
        logger.info(
            "another analysis is running; this row is left to the next refresh",
            extra={"action": "analysis", "event_id": intake_event_id},
        )
    except Exception:
        logger.exception(
            "analysis of a written row failed; `notifier analyze` will redo it",
            extra={"action": "analysis", "event_id": intake_event_id},
        )


__all__ = ["Refreshed", "Summary", "analyze", "on_row_written", "refresh"]
