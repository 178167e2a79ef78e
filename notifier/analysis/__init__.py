"""Analysis: datasets, runs, lineage and anomalies derived from the audit rows.

``on_rows_written`` (``on_row_written`` for one row) is the one call processing makes
after it commits rows; it never raises. ``analyze`` recomputes a time range (``notifier
analyze``); ``refresh`` re-judges what depends on the clock (``notifier report``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Final

from psycopg.errors import LockNotAvailable
from psycopg_pool import ConnectionPool

from notifier.analysis.engine import (
    Refreshed,
    Summary,
    analyze,
    analyze_written_many,
    refresh,
)
from notifier.config import AnalysisSettings
from notifier.db import query
from notifier.phases import Phase

logger = logging.getLogger(__name__)


def on_row_written(
    pool: ConnectionPool, settings: AnalysisSettings, phase: Phase, intake_event_id: int
) -> None:
    """Analyse the row just written for an event (``on_rows_written`` of one row)."""
    on_rows_written(pool, settings, [(phase, intake_event_id)])


def on_rows_written(
    pool: ConnectionPool, settings: AnalysisSettings, written: Sequence[tuple[Phase, int]]
) -> None:
    """Analyse the rows just written for events, (phase, intake event id) each, as one
    batch in one transaction (four round trips however many rows), after the rows'
    transaction committed. A failure is logged and left to the catch-up thread or
    ``notifier analyze``, never raised into processing."""
    if not written:
        return
    try:
        with pool.connection() as conn:
            analyze_written_many(
                conn, settings, [(p.short_name, i) for p, i in written], datetime.now(UTC)
            )
    except LockNotAvailable:
        logger.info(
            "another analysis is running; these rows are left to the next refresh",
            extra={"action": "analysis", "rows": len(written)},
        )
    except Exception:
        logger.exception(
            "analysis of written rows failed; `notifier analyze` will redo them",
            extra={"action": "analysis", "rows": len(written)},
        )


CATCH_UP_INTERVAL_SECONDS: Final = 30.0
"""How often a worker process analyses the rows its threads left (``catch_up``)."""


def catch_up(pool: ConnectionPool, settings: AnalysisSettings) -> None:
    """Analyse rows no worker analysed yet (at most ``engine.MAX_CATCH_UP`` per call) and
    re-judge what depends on the clock; gives way to a running analysis. Never raises."""
    try:
        with pool.connection() as conn:
            conn.execute(query("analysis_catch_up_lock_timeout"))
            try:
                refresh(conn, settings, datetime.now(UTC))
            finally:
                conn.execute(query("analysis_catch_up_reset_lock_timeout"))
    except LockNotAvailable:
        logger.debug("analysis busy; catching up next time", extra={"action": "analysis"})
    except Exception:
        logger.exception("analysis catch-up failed; retried later", extra={"action": "analysis"})


def start_catch_up(
    pool: ConnectionPool, settings: AnalysisSettings, stop: threading.Event
) -> threading.Thread:
    """A thread that runs ``catch_up`` every CATCH_UP_INTERVAL_SECONDS until ``stop``.

    Workers analyse a row inline only when their batch was small; under a backlog the
    rows are left to this thread, so analysis never slows processing down.
    """

    def run() -> None:
        while not stop.wait(CATCH_UP_INTERVAL_SECONDS):
            catch_up(pool, settings)

    thread = threading.Thread(target=run, name="notifier-analysis", daemon=True)
    thread.start()
    return thread


__all__ = [
    "Refreshed",
    "Summary",
    "analyze",
    "catch_up",
    "on_row_written",
    "on_rows_written",
    "refresh",
    "start_catch_up",
]
