"""What every command needs before it runs: settings, turned into a Runtime."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click
import psycopg

from notifier.app import Runtime
from notifier.cli.exits import EXIT_UNAVAILABLE, ConfigurationError
from notifier.config import Settings, database_url_from_env
from notifier.db import CONNECT_TIMEOUT_SECONDS
from notifier.errors import ConfigError


def load_settings(*, receives_webhooks: bool) -> Settings:
    """Settings from the environment; every bad variable named at once (exit status 4)."""
    try:
        return Settings.from_env(receives_webhooks=receives_webhooks)
    except ConfigError as exc:
        raise ConfigurationError(str(exc)) from None


def load_runtime(*, receives_webhooks: bool = False) -> Runtime:
    """The pool and store of a command; only ``serve`` authenticates webhooks."""
    return Runtime.from_settings(load_settings(receives_webhooks=receives_webhooks))


@contextmanager
def database_connection() -> Iterator[psycopg.Connection[Any]]:
    """An autocommit connection from NOTIFIER_DATABASE_URL alone, for commands that need
    nothing else (report, export): exit status 4 without the URL, 3 when unreachable."""
    try:
        url = database_url_from_env()
    except ConfigError as exc:
        raise ConfigurationError(str(exc)) from None
    try:
        conn = psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS)
    except psycopg.OperationalError as exc:
        click.echo(f"error: database unavailable: {exc}", err=True)
        raise SystemExit(EXIT_UNAVAILABLE) from None
    with conn:
        yield conn
