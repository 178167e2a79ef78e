"""``notifier export``: alerts and OpenLineage events, for cron or a look at the outbox.

Needs NOTIFIER_DATABASE_URL and a sink (NOTIFIER_ALERT_WEBHOOK_URL,
NOTIFIER_OPENLINEAGE_URL); no S3 credentials, no webhook token. Workers send the same
messages in the background; running both is safe (notifier.export.outbox).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import click
import psycopg
from psycopg.rows import dict_row

from notifier import export
from notifier.cli.exits import EXIT_FINDINGS, ConfigurationError
from notifier.cli.runtime import database_connection
from notifier.config import AnalysisSettings, ExportSettings
from notifier.db import query
from notifier.errors import ConfigError
from notifier.export.outbox import retry_failed


@dataclass(frozen=True)
class _Context:
    conn: psycopg.Connection[Any]
    export: ExportSettings
    analysis: AnalysisSettings


@contextmanager
def _context() -> Iterator[_Context]:
    try:
        settings = ExportSettings.from_env()
        analysis_settings = AnalysisSettings.from_env()
    except ConfigError as exc:
        raise ConfigurationError(str(exc)) from None
    with database_connection() as conn:
        yield _Context(conn, settings, analysis_settings)


@click.group("export")
def export_group() -> None:
    """Alerts (NOTIFIER_ALERT_WEBHOOK_URL) and OpenLineage events (NOTIFIER_OPENLINEAGE_URL)."""


@export_group.command("send")
@click.option(
    "--retry-failed",
    "retry_failed_messages",
    is_flag=True,
    help="First make failed messages due again.",
)
def send(retry_failed_messages: bool) -> None:
    """Collect what is owed and send what is due, once; for cron.

    Exit status: 0 everything delivered; 1 messages wait for a retry or failed; 3
    database unreachable; 4 no sink configured or a malformed setting.
    """
    with _context() as ctx:
        sinks = export.configured(ctx.export)
        if not sinks:
            raise ConfigurationError(
                "no sink configured: set NOTIFIER_ALERT_WEBHOOK_URL or NOTIFIER_OPENLINEAGE_URL"
            )
        now = datetime.now(UTC)
        if retry_failed_messages:
            for sink in sinks:
                retry_failed(ctx.conn, sink.name, now)
        export.refresh_lateness(ctx.conn, ctx.analysis)
        summary = export.export_round(ctx.conn, ctx.export, now)
        undelivered = _undelivered(ctx.conn, {sink.name for sink in sinks})
    for name, tally in summary.sent.items():
        click.echo(
            f"{name}: {summary.enqueued.get(name, 0)} new, {tally.sent} sent, "
            f"{tally.retrying} to retry, {tally.failed} failed"
        )
    if undelivered:
        click.echo(
            f"{undelivered} message(s) not delivered: see `notifier export status`", err=True
        )
        raise SystemExit(EXIT_FINDINGS)


@export_group.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.option("--limit", type=click.IntRange(1), default=50, show_default=True)
def status(as_json: bool, limit: int) -> None:
    """Messages per sink and state, and those not delivered (with the last error)."""
    with _context() as ctx:
        cursor = ctx.conn.cursor(row_factory=dict_row)
        counts = cursor.execute(query("outbox_counts")).fetchall()
        waiting = cursor.execute(query("outbox_undelivered"), {"limit": limit}).fetchall()
    if as_json:
        click.echo(json.dumps({"counts": counts, "undelivered": waiting}, default=str, indent=2))
        return
    for row in counts:
        click.echo(f"{row['sink']:<12} {row['status']:<8} {row['messages']:>7}")
    for row in waiting:
        click.echo(
            f"{row['id']:>8}  {row['sink']:<12} {row['status']:<8} attempts {row['attempts']:>2}  "
            f"next {row['next_attempt_at']:%Y-%m-%d %H:%M}  {row['last_error'] or '-'}  "
            f"{row['summary']}"
        )


def _undelivered(conn: psycopg.Connection[Any], sinks: set[str]) -> int:
    rows = conn.execute(query("outbox_counts")).fetchall()
    return sum(
        int(count)
        for sink, state, count, _ in rows
        if sink in sinks and state in ("pending", "failed")
    )
