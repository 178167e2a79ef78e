"""``notifier dev``: the whole stack on one machine, for trying notifier out.

It starts a private PostgreSQL and a SeaweedFS S3 server whose data live under one
folder (kept between runs), applies the migrations, creates the four buckets and
hands a ready Settings object to the caller, which serves.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import psycopg
from minio import Minio

from notifier.config import DEFAULT_BUCKET_MAP, Settings, parse_bucket_map
from notifier.db import upgrade
from notifier.devstack.servers import LocalPostgres, LocalSeaweedFS

DEV_DATABASE: Final = "mlops_db"
DEV_ACCESS_KEY: Final = "notifier"


@dataclass(frozen=True)
class DevStack:
    settings: Settings
    client: Minio
    s3_endpoint: str
    s3_access_key: str
    s3_secret_key: str
    home: Path


def _remembered_secret(path: Path) -> str:
    """A random secret made on the first run and reused after, so clients keep working."""
    if path.exists():
        return path.read_text().strip()
    value = secrets.token_urlsafe(24)
    path.write_text(value + "\n")
    path.chmod(0o600)
    return value


@contextmanager
def dev_stack(home: Path, *, pg_port: int, s3_port: int, webhook_port: int) -> Iterator[DevStack]:
    """The servers, ready; SeaweedFS sends its filer events to notifier on ``webhook_port``."""
    home.mkdir(parents=True, exist_ok=True)
    token = _remembered_secret(home / "auth-token")
    s3_secret = _remembered_secret(home / "s3-secret-key")
    buckets = parse_bucket_map(DEFAULT_BUCKET_MAP)
    with ExitStack() as stack:
        postgres = stack.enter_context(LocalPostgres(data_dir=home / "postgres", port=pg_port))
        database_url = postgres.create_database(DEV_DATABASE)
        seaweed = stack.enter_context(
            LocalSeaweedFS(
                data_dir=home / "seaweedfs",
                s3_port=s3_port,
                access_key=DEV_ACCESS_KEY,
                secret_key=s3_secret,
                webhook_url=f"http://127.0.0.1:{webhook_port}/events",
                webhook_token=token,
                webhook_buckets=list(buckets),
            )
        )
        client = seaweed.client()
        for bucket in buckets:
            if not client.bucket_exists(bucket):
                client.make_bucket(bucket)
        with psycopg.connect(database_url, autocommit=True) as conn:
            upgrade(conn)
        settings = Settings.from_env(
            {
                "NOTIFIER_DATABASE_URL": database_url,
                "NOTIFIER_S3_ENDPOINT": seaweed.endpoint,
                "NOTIFIER_S3_ACCESS_KEY": DEV_ACCESS_KEY,
                "NOTIFIER_S3_SECRET_KEY": s3_secret,
                "NOTIFIER_AUTH_TOKEN": token,
            }
        )
        yield DevStack(
            settings=settings,
            client=client,
            s3_endpoint=seaweed.endpoint,
            s3_access_key=DEV_ACCESS_KEY,
            s3_secret_key=s3_secret,
            home=home,
        )
