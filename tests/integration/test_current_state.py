"""Versions and removals in any order, the current state and live_objects, against
real PostgreSQL and SeaweedFS (which supports bucket versioning, so versions, delete
markers and their removal are real; MinIO-only and Ceph-only events are crafted as
those servers send them: ../shared/reference/minio-webhook-contract.md)."""

from __future__ import annotations

import io
import itertools
import json
import shutil
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from minio.versioningconfig import ENABLED, VersioningConfig
from psycopg import sql
from psycopg.rows import dict_row

from notifier.backfill.rescan import process_backlog
from notifier.db import list_migrations, upgrade
from tests.conftest import _with_dbname
from tests.integration.test_backfill import run
from tests.support import minio_body, minio_record, record_for_stat

FLOWS_2 = b"src_ip,label\n192.0.2.1,normal\n192.0.2.2,dos\n"
FLOWS_3 = FLOWS_2 + b"192.0.2.3,probe\n"
FIVE = b"id\n1\n2\n3\n4\n5\n"
THREE = b"id\n1\n2\n3\n"


def put(s3, bucket, key, data):
    return s3.put_object(bucket, key, io.BytesIO(data), len(data))


def created(s3, bucket, key, version_id=None):
    """The record MinIO sends right after a PUT: event time now, ns sequencer."""
    moment = datetime.now(UTC)
    record = record_for_stat(s3, bucket, key, event_time=moment, sequencer=f"{time.time_ns():X}")
    if version_id is not None:
        record["s3"]["object"]["versionId"] = version_id
    return record


def removed(bucket, key, name="s3:ObjectRemoved:Delete", version_id=None, when=None):
    return minio_record(
        bucket, key, event_name=name, version_id=version_id, event_time=when or datetime.now(UTC)
    )


def post(client, auth, record: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/events", data=minio_body(record), headers=auth)
    assert response.status_code == 200, response.json
    return response.json


def post_raw(client, auth, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/events", data=json.dumps(body), headers=auth)
    assert response.status_code == 200, response.json
    return response.json


def rows_of_key(db, key, table="ingestion_events"):
    db.row_factory = dict_row
    return db.execute(
        f"SELECT * FROM {table} WHERE object_key = %s ORDER BY timestamp_ingesta, id", (key,)
    ).fetchall()


def live(db, bucket, key):
    db.row_factory = dict_row
    return db.execute(
        "SELECT * FROM live_objects WHERE bucket = %s AND object_key = %s ORDER BY version_id",
        (bucket, key),
    ).fetchall()


def millis(moment: datetime) -> datetime:
    """Event times travel with millisecond precision."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def assert_no_drift_and_fix_adds_nothing(settings, buckets, db):
    before = db.execute("SELECT count(*) FROM ingestion_events").fetchone()
    report = run(settings, buckets, "reconcile", "--bucket", buckets.raw, "--json")
    assert report.returncode == 0, report.stdout + report.stderr
    assert json.loads(report.stdout)["drift"] == []
    fixed = run(settings, buckets, "reconcile", "--bucket", buckets.raw, "--fix")
    assert fixed.returncode == 0, fixed.stderr
    assert db.execute("SELECT count(*) FROM ingestion_events").fetchone() == before


@pytest.fixture
def versioned(s3_client, buckets):
    s3_client.set_bucket_versioning(buckets.raw, VersioningConfig(ENABLED))
    return buckets.raw


def test_minio_noop_delete_marks_nothing(
    client, auth, s3_client, versioned, processor, db, settings, buckets
):
    # Case minio-noop-delete-marks-live-rows-deleted.
    key = "noop/flows.csv"
    put(s3_client, versioned, key, FLOWS_2)
    post(client, auth, created(s3_client, versioned, key))
    processor.drain()
    dead = "00000000-0000-0000-0000-00000000dead"
    s3_client.remove_object(versioned, key, version_id=dead)
    post(client, auth, removed(versioned, key, "s3:ObjectRemoved:NoOP", dead))
    processor.drain()

    (row,) = rows_of_key(db, key)
    assert (row["num_registros"], row["estado"], row["deleted_at"]) == (2, "ok", None)
    assert row["is_current"] is True
    (noop,) = db.execute(
        "SELECT status, note FROM intake_events WHERE event_name = 's3:ObjectRemoved:NoOP'"
    ).fetchall()
    assert noop["status"] == "done"
    assert "nothing was removed" in noop["note"]
    assert [r["audit_row_id"] for r in live(db, versioned, key)] == [row["id"]]
    assert_no_drift_and_fix_adds_nothing(settings, buckets, db)


def version_sequence(s3_client, bucket, key):
    """v1 and v2 put, then v1 removed by version: the case's three events."""
    v1 = put(s3_client, bucket, key, FLOWS_2).version_id
    create_v1 = created(s3_client, bucket, key)
    v2 = put(s3_client, bucket, key, FLOWS_3).version_id
    create_v2 = created(s3_client, bucket, key)
    s3_client.remove_object(bucket, key, version_id=v1)
    t3 = datetime.now(UTC)
    delete_v1 = removed(bucket, key, version_id=v1, when=t3)
    assert v1 is not None
    assert v2 not in (None, v1)
    return {"create v1": create_v1, "create v2": create_v2, "delete v1": delete_v1}, t3


def assert_version_case(db, key, bucket, t3):
    v1_row, v2_row = sorted(rows_of_key(db, key), key=lambda r: r["timestamp_ingesta"])
    assert v1_row["deleted_at"] == millis(t3)
    assert v1_row["is_current"] is False
    assert (v2_row["num_registros"], v2_row["estado"], v2_row["deleted_at"]) == (3, "ok", None)
    assert v2_row["is_current"] is True
    (current,) = live(db, bucket, key)
    assert (current["audit_row_id"], current["is_current"]) == (v2_row["id"], True)


def test_version_delete_before_newer_version_row(
    client, auth, s3_client, versioned, processor, db, settings, buckets
):
    # Case version-delete-before-newer-version-row: v2's event is processed last.
    key = "ooo/flows.csv"
    events, t3 = version_sequence(s3_client, versioned, key)
    for name in ("create v1", "delete v1", "create v2"):
        post(client, auth, events[name])
        processor.drain()
    assert_version_case(db, key, versioned, t3)
    assert_no_drift_and_fix_adds_nothing(settings, buckets, db)


@pytest.mark.parametrize(
    "order",
    list(itertools.permutations(["create v1", "create v2", "delete v1"])),
    ids=lambda order: ", ".join(order),
)
def test_every_order_of_two_versions_and_a_delete_ends_the_same(
    client, auth, s3_client, versioned, processor, db, order
):
    key = "perm/flows.csv"
    events, t3 = version_sequence(s3_client, versioned, key)
    for name in order:
        post(client, auth, events[name])
        processor.drain()
    assert_version_case(db, key, versioned, t3)


def test_delete_marker_and_its_removal(
    client, auth, s3_client, versioned, processor, db, settings, buckets
):
    key = "marked/flows.csv"
    put(s3_client, versioned, key, FLOWS_2)
    post(client, auth, created(s3_client, versioned, key))
    processor.drain()
    s3_client.remove_object(versioned, key)  # no version id: a delete marker
    (marker,) = [
        o
        for o in s3_client.list_objects(versioned, prefix=key, include_version=True)
        if o.is_delete_marker
    ]
    post(
        client,
        auth,
        removed(versioned, key, "s3:ObjectRemoved:DeleteMarkerCreated", marker.version_id),
    )
    processor.drain()
    (row,) = rows_of_key(db, key)
    assert (row["deleted_at"], row["is_current"]) == (None, False)
    (noncurrent,) = live(db, versioned, key)  # the version still exists, noncurrent
    assert (noncurrent["audit_row_id"], noncurrent["is_current"]) == (row["id"], False)
    assert_no_drift_and_fix_adds_nothing(settings, buckets, db)

    s3_client.remove_object(versioned, key, version_id=marker.version_id)
    post(client, auth, removed(versioned, key, version_id=marker.version_id))
    processor.drain()
    (row,) = rows_of_key(db, key)
    assert (row["deleted_at"], row["is_current"]) == (None, True)
    assert [r["is_current"] for r in live(db, versioned, key)] == [True]
    assert_no_drift_and_fix_adds_nothing(settings, buckets, db)


@pytest.mark.parametrize("newest_first", [False, True])
def test_unversioned_overwrite_makes_the_old_row_not_current(
    client, auth, s3_client, buckets, processor, db, newest_first, settings
):
    key = "daily/totals.csv"
    put(s3_client, buckets.raw, key, THREE)
    first = created(s3_client, buckets.raw, key)
    time.sleep(0.01)
    put(s3_client, buckets.raw, key, FIVE)
    second = created(s3_client, buckets.raw, key)
    for record in [second, first] if newest_first else [first, second]:
        post(client, auth, record)
        processor.drain()
    old, new = rows_of_key(db, key)
    assert (old["is_current"], new["is_current"]) == (False, True)
    assert (old["deleted_at"], new["deleted_at"]) == (None, None)
    assert new["num_registros"] == 5
    total = db.execute(
        "SELECT sum(num_registros) AS n FROM ingestion_events WHERE is_current"
    ).fetchone()
    assert total["n"] == 5
    assert [r["num_registros"] for r in live(db, buckets.raw, key)] == [5]
    assert_no_drift_and_fix_adds_nothing(settings, buckets, db)


def ceph_record(bucket, key, name, when, *, size=None, etag=None, version_id=""):
    obj: dict[str, Any] = {"key": key}
    if size is not None:
        obj["size"] = str(size)
    obj.update(
        {
            "eTag": etag or "",
            "versionId": version_id,
            "sequencer": f"{time.time_ns():X}",
            "metadata": [],
            "tags": [],
        }
    )
    return {
        "eventVersion": "2.2",
        "eventSource": "ceph:s3",
        "eventName": name,
        "eventTime": when.isoformat().replace("+00:00", "Z"),
        "s3": {"bucket": {"name": bucket}, "object": obj},
    }


@pytest.mark.parametrize(
    "expiry",
    ["ObjectLifecycle:Expiration:Current", "LifecycleExpiration:Delete"],
)
def test_lifecycle_expiration_counts_as_a_removal(
    client, auth, s3_client, buckets, processor, db, settings, expiry
):
    # Case ceph-lifecycle-expiration-ignored (and AWS's name for the same thing).
    key = "ceph/expiring.csv"
    put(s3_client, buckets.raw, key, FLOWS_2)
    stat = s3_client.stat_object(buckets.raw, key)
    t1 = datetime.now(UTC)
    etag = stat.etag.strip('"')
    body = {"Records": [ceph_record(buckets.raw, key, "ObjectCreated:Put", t1, size=44, etag=etag)]}
    assert post_raw(client, auth, body)["accepted"] == 1
    processor.drain()
    s3_client.remove_object(buckets.raw, key)  # the lifecycle rule expires it
    t2 = datetime.now(UTC)
    reply = post_raw(
        client, auth, {"Records": [ceph_record(buckets.raw, key, expiry, t2, etag=etag)]}
    )
    assert (reply["accepted"], reply.get("ignored", 0)) == (1, 0)
    processor.drain()
    (row,) = rows_of_key(db, key)
    assert (row["num_registros"], row["estado"]) == (2, "ok")
    assert row["deleted_at"] == t2
    assert row["is_current"] is False
    assert live(db, buckets.raw, key) == []
    assert_no_drift_and_fix_adds_nothing(settings, buckets, db)


def test_ceph_noncurrent_expiry_removes_only_that_version(
    client, auth, s3_client, versioned, processor, db
):
    key = "ceph/versions.csv"
    v1 = put(s3_client, versioned, key, FLOWS_2).version_id
    post(client, auth, created(s3_client, versioned, key))
    v2 = put(s3_client, versioned, key, FLOWS_3).version_id
    post(client, auth, created(s3_client, versioned, key))
    processor.drain()
    s3_client.remove_object(versioned, key, version_id=v1)
    t3 = datetime.now(UTC)
    expiry = ceph_record(versioned, key, "ObjectLifecycle:Expiration:NonCurrent", t3, version_id=v1)
    post_raw(client, auth, {"Records": [expiry]})
    processor.drain()
    by_version = {r["version_id"]: r for r in rows_of_key(db, key)}
    assert (by_version[v1]["deleted_at"], by_version[v1]["is_current"]) == (t3, False)
    assert (by_version[v2]["deleted_at"], by_version[v2]["is_current"]) == (None, True)


def test_reconcile_fix_records_a_gone_object_as_a_removal_event(
    client, auth, s3_client, buckets, processor, db, settings
):
    key = "lost/delete.csv"
    put(s3_client, buckets.raw, key, THREE)
    post(client, auth, created(s3_client, buckets.raw, key))
    processor.drain()
    s3_client.remove_object(buckets.raw, key)  # its event never arrives
    report = run(settings, buckets, "reconcile", "--bucket", buckets.raw, "--json")
    assert [(d["kind"], d["key"]) for d in json.loads(report.stdout)["drift"]] == [("gone", key)]
    assert run(settings, buckets, "reconcile", "--bucket", buckets.raw, "--fix").returncode == 0
    (row,) = rows_of_key(db, key)
    assert row["deleted_at"] is not None
    assert row["is_current"] is False
    (event,) = db.execute(
        "SELECT event_name, status FROM intake_events WHERE event_kind = 'removed'"
    ).fetchall()
    assert (event["event_name"], event["status"]) == ("reconcile:ObjectRemoved", "done")
    assert_no_drift_and_fix_adds_nothing(settings, buckets, db)


def test_zero_byte_object_records_size_zero(client, auth, s3_client, buckets, processor, db):
    put(s3_client, buckets.raw, "empty/part-0.csv", b"")
    record = created(s3_client, buckets.raw, "empty/part-0.csv")
    assert "size" not in record["s3"]["object"]  # MinIO omits it (omitempty)
    post(client, auth, record)
    processor.drain()
    (row,) = rows_of_key(db, "empty/part-0.csv")
    assert row["size_bytes"] == 0


@pytest.fixture
def empty_url(pg_admin_url):
    name = f"empty_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield _with_dbname(pg_admin_url, name)
    with psycopg.connect(pg_admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def test_migration_gives_existing_rows_a_current_state(empty_url, tmp_path):
    before = tmp_path / "before"
    before.mkdir()
    for migration in list_migrations():
        if migration.version < 3:
            shutil.copy(migration.path, before / migration.path.name)
    with psycopg.connect(empty_url, autocommit=True) as conn:
        # A seed row the pipeline wrote before notifier, then notifier's own rows.
        conn.execute(
            "CREATE TABLE ingestion_events (id serial PRIMARY KEY,"
            " timestamp_ingesta timestamp, nombre_archivo varchar(255), ruta_minio text,"
            " num_registros integer, estado varchar(20))"
        )
        conn.execute(
            "INSERT INTO ingestion_events (timestamp_ingesta, nombre_archivo, ruta_minio,"
            " num_registros, estado) VALUES (now(), 'old.csv', 's3://raw/old.csv', 7, 'ok')"
        )
        upgrade(conn, before)
        conn.execute(
            "INSERT INTO intake_events (dedup_key, sender, origin, event_name, event_kind,"
            " bucket, object_key, event_time, payload, status)"
            " SELECT 'd' || n, 'minio', 'webhook', 's3:ObjectCreated:Put', 'created', 'raw',"
            " CASE WHEN n < 4 THEN 'k.csv' ELSE 'gone.csv' END,"
            " timestamp '2026-11-01' + n * interval '1 min', '{}', 'done'"
            " FROM generate_series(1, 4) AS n"
        )
        conn.execute(
            "INSERT INTO ingestion_events (timestamp_ingesta, nombre_archivo, ruta_minio,"
            " num_registros, estado, bucket, object_key, event_name, origin, intake_event_id,"
            " deleted_at)"
            " SELECT event_time, object_key, 's3://raw/' || object_key, id, 'ok', bucket,"
            " object_key, event_name, origin, id,"
            " CASE WHEN object_key = 'gone.csv' THEN now() END FROM intake_events ORDER BY id"
        )
        assert [m.version for m in list_migrations()][-1] >= 3
        upgrade(conn)
        states = conn.execute(
            "SELECT nombre_archivo, num_registros, is_current FROM ingestion_events ORDER BY id"
        ).fetchall()
        assert states == [
            ("old.csv", 7, True),  # adopted seed row: kept, nothing says otherwise
            ("k.csv", 1, False),
            ("k.csv", 2, False),
            ("k.csv", 3, True),  # the newest of its key
            ("gone.csv", 4, False),  # deleted
        ]
        live = conn.execute(
            "SELECT phase, object_key, num_registros, is_current FROM live_objects"
        ).fetchall()
        assert live == [("ingestion", "k.csv", 3, True)]


def test_events_of_one_key_processed_concurrently_end_the_same(
    client, auth, s3_client, versioned, processor, db
):
    # Each key's state is derived under a lock on the key: workers recording its
    # events at the same moment see each other's rows.
    sequences = {}
    for n in range(6):
        key = f"concurrent/{n}.csv"
        events, t3 = version_sequence(s3_client, versioned, key)
        sequences[key] = t3
        for name in ("delete v1", "create v2", "create v1"):
            post(client, auth, events[name])
    process_backlog(processor, 4)
    for key, t3 in sequences.items():
        assert_version_case(db, key, versioned, t3)
