"""Fixtures of the fault tests: a PostgreSQL cluster of their own, which they stop,
restart and load, so the session's cluster (every other test's) is never disturbed."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import psycopg
import pytest

from notifier.config import Settings
from notifier.db import upgrade
from notifier.devstack.servers import LocalPostgres, free_port


@pytest.fixture
def own_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPostgres]:
    server = LocalPostgres(
        data_dir=tmp_path_factory.mktemp("faults-pg") / "data", port=free_port(), ephemeral=True
    )
    server.start()
    with psycopg.connect(server.url, autocommit=True) as conn:
        upgrade(conn)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def own_settings(settings: Settings, own_postgres: LocalPostgres) -> Settings:
    """The test's settings (its buckets, the session's S3), on the private cluster."""
    return dataclasses.replace(settings, database_url=own_postgres.url)
