"""Schema migrations against a real PostgreSQL."""

from __future__ import annotations

import threading
import uuid

import psycopg
import pytest
from psycopg import sql

from notifier.db import list_migrations, upgrade
from tests.conftest import _with_dbname

SEED_COLUMNS = {
    "ingestion_events": {
        "timestamp_ingesta",
        "nombre_archivo",
        "ruta_minio",
        "num_registros",
        "estado",
    },
    "transformation_events": {
        "timestamp_transformacion",
        "nombre_archivo",
        "ruta_minio",
        "num_registros",
        "estado",
    },
    "training_events": {
        "timestamp_entrenamiento",
        "ruta_modelo",
        "num_registros",
        "parametros",
        "estado",
    },
    "evaluation_events": {
        "timestamp_eval",
        "modelo_nombre",
        "nombre_dataset",
        "ruta_resultados",
        "metrics",
        "estado",
    },
}
PROVENANCE = {
    "bucket",
    "object_key",
    "etag",
    "version_id",
    "size_bytes",
    "content_type",
    "event_name",
    "origin",
    "processed_at",
    "reason",
    "intake_event_id",
}


@pytest.fixture
def empty_database(pg_admin_url):
    name = f"empty_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield _with_dbname(pg_admin_url, name)
    with psycopg.connect(pg_admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def test_upgrade_applies_everything_once(empty_database):
    with psycopg.connect(empty_database, autocommit=True) as conn:
        assert upgrade(conn) == [m.name for m in list_migrations()]
        assert upgrade(conn) == []
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_migrations")]
    assert versions == [m.version for m in list_migrations()]


def test_concurrent_upgrades_do_not_collide(empty_database):
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with psycopg.connect(empty_database, autocommit=True) as conn:
                results.append(upgrade(conn))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(len(r) for r in results) == [0, 0, 0, len(list_migrations())]


def test_seed_tables_keep_the_seed_columns(db):
    for table, seed in SEED_COLUMNS.items():
        columns = {
            r[0]
            for r in db.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = %s",
                (table,),
            )
        }
        assert seed <= columns, f"{table} lost seed columns {seed - columns}"
        assert columns >= PROVENANCE, f"{table} lacks provenance {PROVENANCE - columns}"


def test_jsonb_columns(db):
    types = dict(
        db.execute(
            "SELECT table_name || '.' || column_name, data_type FROM information_schema.columns"
            " WHERE column_name IN ('parametros', 'metrics', 'payload')"
        ).fetchall()
    )
    assert types == {
        "training_events.parametros": "jsonb",
        "evaluation_events.metrics": "jsonb",
        "intake_events.payload": "jsonb",
        "export_outbox.payload": "jsonb",
    }


def test_existing_seed_tables_are_adopted_with_their_rows(empty_database):
    with psycopg.connect(empty_database, autocommit=True) as conn:
        # What the pipeline created before notifier existed: the seed's columns only.
        conn.execute(
            "CREATE TABLE ingestion_events (id serial PRIMARY KEY,"
            " timestamp_ingesta timestamp, nombre_archivo varchar(255), ruta_minio text,"
            " num_registros integer, estado varchar(20))"
        )
        conn.execute(
            "INSERT INTO ingestion_events (timestamp_ingesta, nombre_archivo, ruta_minio,"
            " num_registros, estado) VALUES (now(), 'old.csv', 's3://raw/old.csv', 7, 'ok')"
        )
        upgrade(conn)
        rows = conn.execute(
            "SELECT nombre_archivo, num_registros, bucket, intake_event_id FROM ingestion_events"
        ).fetchall()
        assert rows == [("old.csv", 7, None, None)]
        columns = {
            r[0]
            for r in conn.execute(
                "SELECT column_name FROM information_schema.columns"
                " WHERE table_name = 'ingestion_events'"
            )
        }
        assert columns >= PROVENANCE
