"""Export: alerts to a webhook and OpenLineage run events, through one outbox.

A *round* collects, for every configured sink (the registry ``SINKS``; one module per
sink), the messages owed now, stores the new ones in ``export_outbox`` (once per
fingerprint) and posts those due. Rounds run in a background thread of ``notifier
worker`` and ``notifier serve`` every NOTIFIER_EXPORT_INTERVAL_SECONDS, and from
``notifier export send`` (cron). Intake and processing never wait for a sink: a
sink that is down only delays its own messages (notifier.export.outbox).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import psycopg
from psycopg.errors import LockNotAvailable
from psycopg_pool import ConnectionPool, PoolTimeout

from notifier import analysis
from notifier.config import AnalysisSettings, ExportSettings
from notifier.db import query
from notifier.export import alerts, openlineage
from notifier.export.http import post_json
from notifier.export.outbox import Poster, SendTally, enqueue, send_due
from notifier.export.sink import Sink

logger = logging.getLogger(__name__)

SINKS: Final[tuple[Sink, ...]] = (alerts.SINK, openlineage.SINK)
"""Every sink, in the order a round serves them."""

REFRESH_INTERVAL: Final = timedelta(minutes=5)
"""How often the sender thread re-judges what depends on the clock (analysis.refresh):
lateness, and runs that turn ``incomplete`` once their window has passed."""


@dataclass(frozen=True)
class RoundSummary:
    """What one round did, per sink: messages new in the outbox, and sends."""

    enqueued: dict[str, int] = field(default_factory=dict)
    sent: dict[str, SendTally] = field(default_factory=dict)


def configured(settings: ExportSettings) -> list[Sink]:
    return [sink for sink in SINKS if sink.target(settings) is not None]


def export_round(
    conn: psycopg.Connection[Any],
    settings: ExportSettings,
    now: datetime,
    post: Poster | None = None,
) -> RoundSummary:
    """Collect, enqueue and send for every configured sink (``conn`` in autocommit)."""
    summary = RoundSummary()
    for sink in configured(settings):
        target = sink.target(settings)
        assert target is not None
        with conn.transaction():
            summary.enqueued[sink.name] = enqueue(
                conn, sink.name, sink.collect(conn, settings, now), now
            )
        summary.sent[sink.name] = send_due(conn, sink.name, target, now, post or post_json)
    return summary


def refresh_lateness(conn: psycopg.Connection[Any], settings: AnalysisSettings) -> None:
    """Re-judge lateness and runs still open (a late run is an alert, and a finished run
    an OpenLineage event); gives way to a running ``notifier analyze``."""
    conn.execute(query("outbox_lock_timeout"))
    try:
        analysis.refresh(conn, settings, datetime.now(UTC))
    except LockNotAvailable:
        logger.info("analysis busy; lateness is re-judged next time", extra={"action": "export"})
    finally:
        conn.execute(query("outbox_reset_lock_timeout"))


def run_sender(
    pool: ConnectionPool,
    settings: ExportSettings,
    analysis_settings: AnalysisSettings,
    stop: threading.Event,
) -> None:
    """Export rounds until ``stop``; survives database and sink outages."""
    last_refresh: datetime | None = None
    while not stop.is_set():
        now = datetime.now(UTC)
        try:
            with pool.connection() as conn:
                if last_refresh is None or now - last_refresh >= REFRESH_INTERVAL:
                    refresh_lateness(conn, analysis_settings)
                    last_refresh = now
                export_round(conn, settings, now)
        except (psycopg.OperationalError, PoolTimeout) as exc:
            logger.warning("export round: database unavailable (%s)", type(exc).__name__)
        except Exception:
            logger.exception("export round failed; trying again next round")
        stop.wait(settings.interval_seconds)


def start_sender(
    pool: ConnectionPool,
    settings: ExportSettings,
    analysis_settings: AnalysisSettings,
    stop: threading.Event,
) -> threading.Thread | None:
    """The background sender thread, or None when no sink is configured."""
    if not configured(settings):
        return None
    thread = threading.Thread(
        target=run_sender,
        args=(pool, settings, analysis_settings, stop),
        name="notifier-export",
        daemon=True,
    )
    thread.start()
    names = ", ".join(sink.name for sink in configured(settings))
    logger.info("export sender started (%s)", names, extra={"action": "export"})
    return thread


__all__ = ["SINKS", "RoundSummary", "export_round", "refresh_lateness", "start_sender"]
