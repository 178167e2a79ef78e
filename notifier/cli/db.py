"""``notifier db``: the audit database's schema."""

from __future__ import annotations

import click
import psycopg

from notifier.cli.exits import EXIT_UNAVAILABLE, ConfigurationError
from notifier.config import database_url_from_env
from notifier.db import CONNECT_TIMEOUT_SECONDS, upgrade
from notifier.errors import ConfigError
from notifier.logs import configure_logging


@click.group()
def db() -> None:
    """Manage the audit database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations (idempotent; safe when replicas run it at once).

    Needs only NOTIFIER_DATABASE_URL.
    """
    try:
        url = database_url_from_env()
    except ConfigError as exc:
        raise ConfigurationError(str(exc)) from None
    configure_logging("INFO")
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS) as conn:
            applied = upgrade(conn)
    except psycopg.OperationalError as exc:
        click.echo(f"Error: database unavailable: {exc}", err=True)
        raise SystemExit(EXIT_UNAVAILABLE) from None
    click.echo(f"applied: {', '.join(applied)}" if applied else "schema is up to date")
