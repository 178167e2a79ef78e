"""PostgreSQL: the connection pool, named queries and schema migrations."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Final, LiteralString, cast

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from notifier.errors import ConfigError

logger = logging.getLogger(__name__)

MIGRATION_LOCK_ID: Final = 0x6E6F7469  # "noti": one advisory lock for every replica
CONNECT_TIMEOUT_SECONDS: Final = 5
"""A dead database must answer 503 fast, not hang the webhook for libpq's default."""

POOL_CHECKOUT_TIMEOUT_SECONDS: Final = 5.0

POOL_RECONNECT_TIMEOUT_SECONDS: Final = 5.0
"""How long the pool keeps retrying one failed connection before it gives up on it.

psycopg_pool retries with a backoff that doubles from 1 s and has no ceiling
(AttemptWithBackoff), for ``reconnect_timeout`` (5 minutes by default): after a 20 s
outage the next attempt could be 10 s after the database was back. Giving up after
5 s caps the gap between attempts at about 2 s; the next checkout (a webhook, a probe,
a worker's poll) starts a new attempt at once, so intake answers 2xx again within
seconds of the database's return.
"""

_MIGRATION_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")
_QUERY_HEADER = re.compile(r"^-- name: (\w+)\s*$", re.MULTILINE)


def create_pool(database_url: str, size: int, *, open_now: bool = False) -> ConnectionPool:
    """A pool that connects lazily, so a process starts even while the database is down."""
    pool = ConnectionPool(
        database_url,
        min_size=1,
        max_size=size,
        timeout=POOL_CHECKOUT_TIMEOUT_SECONDS,
        reconnect_timeout=POOL_RECONNECT_TIMEOUT_SECONDS,
        # No check on every checkout (a round trip per use): a connection broken by a
        # database restart fails its first use, is discarded when returned, and the
        # caller checks the pool's idle connections then (``ConnectionPool.check``).
        kwargs={"connect_timeout": CONNECT_TIMEOUT_SECONDS, "autocommit": True},
        open=False,
        name="notifier",
    )
    pool.open(wait=open_now)
    return pool


OUTAGE_SQLSTATE_CLASSES: Final = frozenset({"08", "53", "57", "58"})
"""Connection exception, insufficient resources, operator intervention (a shutdown), system
error: the database is unavailable, whatever the statement (PostgreSQL appendix A)."""


def is_outage(exc: BaseException) -> bool:
    """True when ``exc`` says the database is unavailable, False when it refused a statement
    for what the statement holds (e.g. 54000 program_limit_exceeded, which psycopg also
    raises as an OperationalError)."""
    if isinstance(exc, PoolTimeout):
        return True
    if not isinstance(exc, psycopg.OperationalError):
        return False
    return exc.sqlstate is None or exc.sqlstate[:2] in OUTAGE_SQLSTATE_CLASSES


@cache
def queries() -> dict[str, LiteralString]:
    """The named queries of every ``queries/*.sql`` file in the package, loaded once.

    Each file holds one stage's queries under ``-- name: <name>`` headers; a name
    defined twice is a packaging error.
    """
    named: dict[str, LiteralString] = {}
    folder = resources.files("notifier").joinpath("queries")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".sql"):
            continue
        chunks = _QUERY_HEADER.split(entry.read_text(encoding="utf-8"))[1:]
        for name, body in zip(chunks[0::2], chunks[1::2], strict=True):
            if name in named:
                raise RuntimeError(f"query {name!r} is defined twice (in {entry.name})")
            # The files ship with the package; nothing in them comes from a user.
            named[name] = cast(LiteralString, body.strip())
    return named


def query(name: str) -> LiteralString:
    return queries()[name]


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path

    def sql(self) -> str:
        return self.path.read_text(encoding="utf-8")


def migrations_dir() -> Path:
    """``sql/`` of a source checkout, or the copy packaged as ``notifier/migrations``."""
    packaged = Path(str(resources.files("notifier").joinpath("migrations")))
    if packaged.is_dir():
        return packaged
    source = Path(__file__).resolve().parent.parent / "sql"
    if source.is_dir():
        return source
    raise ConfigError("notifier's SQL migrations are missing from this installation")


def list_migrations(directory: Path | None = None) -> list[Migration]:
    found = []
    for path in sorted((directory or migrations_dir()).iterdir()):
        match = _MIGRATION_NAME.match(path.name)
        if match:
            found.append(Migration(int(match.group(1)), path.stem, path))
    return found


def upgrade(conn: psycopg.Connection[Any], directory: Path | None = None) -> list[str]:
    """Apply the migrations not applied yet, in order, in one transaction.

    A transaction-scoped advisory lock serialises replicas that start together: the
    second waits, then finds everything applied and does nothing.
    """
    applied_now: list[str] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK_ID,))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version integer PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
        for migration in list_migrations(directory):
            if migration.version in done:
                continue
            logger.info("applying migration %s", migration.name)
            conn.execute(migration.sql().encode())
            conn.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                (migration.version, migration.name),
            )
            applied_now.append(migration.name)
    return applied_now
