"""``notifier events prune``: raw-event retention."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import click

from notifier.app import Runtime
from notifier.cli.backfill import DATETIME_FORMATS, unavailable_exits
from notifier.intake.retention import prune_payloads


def prune_cutoff(
    before: datetime | None, older_than_days: int | None, retention_days: int | None
) -> datetime | None:
    """The moment before which payloads go: --before, else --older-than, else the setting."""
    if before is not None:
        return before if before.tzinfo is not None else before.replace(tzinfo=UTC)
    days = older_than_days if older_than_days is not None else retention_days
    return None if days is None else datetime.now(UTC) - timedelta(days=days)


def register(main: click.Group, loader: Callable[[], Runtime]) -> None:
    """Attach the commands to ``main``; ``loader`` builds the runtime from settings."""

    @main.group()
    def events() -> None:
        """The stored events (intake_events)."""

    @events.command()
    @click.option(
        "--before",
        type=click.DateTime(DATETIME_FORMATS),
        default=None,
        help="Prune payloads of events processed before this time (UTC).",
    )
    @click.option(
        "--older-than",
        "older_than_days",
        type=click.IntRange(0),
        default=None,
        metavar="DAYS",
        help="Prune payloads of events processed more than DAYS days ago "
        "(default: NOTIFIER_EVENT_RETENTION_DAYS).",
    )
    @click.option("--dry-run", is_flag=True, help="Count what would be pruned; change nothing.")
    def prune(before: datetime | None, older_than_days: int | None, dry_run: bool) -> None:
        """Drop the raw payload of events processed long ago.

        Every event row stays (with its dedup_key, so a late redelivery is still a
        duplicate) and every audit row stays; only intake_events.payload becomes NULL.
        Without --before or --older-than, NOTIFIER_EVENT_RETENTION_DAYS decides; when
        that is unset too, nothing is pruned. Exit status 3: database unreachable.
        """
        runtime = loader()
        try:
            cutoff = prune_cutoff(before, older_than_days, runtime.settings.event_retention_days)
            if cutoff is None:
                click.echo("retention is off (NOTIFIER_EVENT_RETENTION_DAYS unset): nothing pruned")
                return
            with unavailable_exits():
                result = prune_payloads(runtime.pool, cutoff, dry_run=dry_run)
        finally:
            runtime.close()
        verb = "would prune" if result.dry_run else "pruned"
        click.echo(
            f"{verb} the payloads of {result.pruned} event(s) processed before "
            f"{result.before.isoformat(timespec='seconds')}"
        )
