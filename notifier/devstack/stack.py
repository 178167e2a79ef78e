"""``notifier dev``: the whole stack on one machine, for trying notifier out.

It starts a private PostgreSQL and a SeaweedFS S3 server whose data live under one
folder (kept between runs), applies the migrations, creates the four buckets and
hands a ready Settings object to the caller, which serves.
"""

from __future__ import annotations

import os
import secrets
import shlex
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import psycopg
from minio import Minio

from notifier.config import DEFAULT_BUCKET_MAP, ENVIRONMENT_NAMES, Settings, parse_bucket_map
from notifier.db import upgrade
from notifier.devstack.servers import DevStackError, LocalPostgres, LocalSeaweedFS

__all__ = ["ENV_FILE", "DevStack", "DevStackError", "dev_stack"]

DEV_DATABASE: Final = "mlops_db"
DEV_ACCESS_KEY: Final = "notifier"
ENV_FILE: Final = "notifier.env"
"""Written in the stack's folder while it runs: the ``export`` lines of its settings."""

STACK_VARIABLES: Final = frozenset(
    {
        "NOTIFIER_DATABASE_URL",
        "NOTIFIER_S3_ENDPOINT",
        "NOTIFIER_S3_ACCESS_KEY",
        "NOTIFIER_S3_SECRET_KEY",
        "NOTIFIER_S3_REGION",
        "NOTIFIER_AUTH_TOKEN",
    }
)
"""Settings the stack decides itself (its own servers and secrets)."""


def operator_settings(environ: Mapping[str, str]) -> dict[str, str]:
    """The ``NOTIFIER_*`` variables of ``environ`` the stack honours as given: every one
    but the connection settings it decides (dashboard token, templates, dialects...)."""
    return {
        name: value
        for name, value in environ.items()
        if name in ENVIRONMENT_NAMES and name not in STACK_VARIABLES
    }


@dataclass(frozen=True)
class DevStack:
    settings: Settings
    client: Minio
    s3_endpoint: str
    s3_access_key: str
    s3_secret_key: str
    home: Path

    def environment(self) -> dict[str, str]:
        """The variables that point any notifier command at this stack."""
        return {
            "NOTIFIER_DATABASE_URL": self.settings.database_url,
            "NOTIFIER_S3_ENDPOINT": self.s3_endpoint,
            "NOTIFIER_S3_ACCESS_KEY": self.s3_access_key,
            "NOTIFIER_S3_SECRET_KEY": self.s3_secret_key,
            "NOTIFIER_AUTH_TOKEN": self.settings.auth_token or "",
        }

    def export_lines(self) -> str:
        return "".join(
            f"export {name}={shlex.quote(value)}\n" for name, value in self.environment().items()
        )

    def banner(self, host: str, port: int) -> str:
        endpoint = f"http://{host}:{port}/events"
        token = self.settings.auth_token
        return "\n".join(
            [
                "",
                f"  webhook endpoint   {endpoint}",
                f"  webhook token      {token}",
                f"  S3 endpoint        {self.s3_endpoint}",
                f"  S3 access key      {self.s3_access_key}",
                f"  S3 secret key      {self.s3_secret_key}",
                f"  database           {self.settings.database_url}",
                f"  buckets            {', '.join(self.settings.bucket_phases)}",
                f"  data folder        {self.home}",
                "",
                "  Point every other notifier command (rescan, reconcile, report...) at it:",
                '    eval "$(notifier dev env)"     # prints these lines:',
                *(f"    {line}" for line in self.export_lines().splitlines()),
                "",
                "  Point MinIO at it:",
                "    MINIO_NOTIFY_WEBHOOK_ENABLE_NOTIFIER=on",
                f"    MINIO_NOTIFY_WEBHOOK_ENDPOINT_NOTIFIER={endpoint}",
                f"    MINIO_NOTIFY_WEBHOOK_AUTH_TOKEN_NOTIFIER={token}",
                "",
                "  Upload something (SeaweedFS notifies notifier; a row appears in ~1 s):",
                f"    AWS_ACCESS_KEY_ID={self.s3_access_key} "
                f"AWS_SECRET_ACCESS_KEY={self.s3_secret_key} \\",
                f"      aws --endpoint-url {self.s3_endpoint} s3 cp data.csv s3://raw/data.csv",
                f"    psql '{self.settings.database_url}' -c 'TABLE ingestion_events'",
                "  Ctrl-C stops everything.",
                "",
            ]
        )


def new_secret() -> str:
    """Hex only: safe unquoted in shells, URLs, ``aws configure`` and TOML (no leading '-')."""
    return secrets.token_hex(24)


def _remembered_secret(path: Path) -> str:
    """A random secret made on the first run and reused after, so clients keep working.

    A remembered value that some client cannot take (older versions generated ones that
    could start with '-') is replaced.
    """
    if path.exists():
        value = path.read_text().strip()
        if value and not value.startswith("-"):
            return value
    value = new_secret()
    path.write_text(value + "\n")
    path.chmod(0o600)
    return value


@contextmanager
def dev_stack(home: Path, *, pg_port: int, s3_port: int, webhook_port: int) -> Iterator[DevStack]:
    """The servers, ready; SeaweedFS sends its filer events to notifier on ``webhook_port``."""
    home.mkdir(parents=True, exist_ok=True)
    token = _remembered_secret(home / "auth-token")
    s3_secret = _remembered_secret(home / "s3-secret-key")
    operator = operator_settings(os.environ)
    buckets = parse_bucket_map(operator.get("NOTIFIER_BUCKET_MAP") or DEFAULT_BUCKET_MAP)
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
                **operator,
                "NOTIFIER_DATABASE_URL": database_url,
                "NOTIFIER_S3_ENDPOINT": seaweed.endpoint,
                "NOTIFIER_S3_ACCESS_KEY": DEV_ACCESS_KEY,
                "NOTIFIER_S3_SECRET_KEY": s3_secret,
                "NOTIFIER_AUTH_TOKEN": token,
            }
        )
        ready = DevStack(
            settings=settings,
            client=client,
            s3_endpoint=seaweed.endpoint,
            s3_access_key=DEV_ACCESS_KEY,
            s3_secret_key=s3_secret,
            home=home,
        )
        env_file = home / ENV_FILE
        env_file.write_text(ready.export_lines(), encoding="utf-8")
        env_file.chmod(0o600)
        stack.callback(env_file.unlink, missing_ok=True)
        yield ready
