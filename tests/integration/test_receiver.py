"""The webhook receiver's status codes, against a real PostgreSQL."""

from __future__ import annotations

import base64
import dataclasses
import json
import time

import psycopg
import pytest
from psycopg.rows import dict_row, tuple_row

from notifier.db import create_pool, upgrade
from notifier.devstack.servers import LocalPostgres, free_port
from notifier.web import create_app
from tests.conftest import TOKEN
from tests.support import minio_body, minio_record


def count(db: psycopg.Connection, table: str, where: str = "true") -> int:
    cursor = db.cursor(row_factory=tuple_row)
    return cursor.execute(f"SELECT count(*) FROM {table} WHERE {where}").fetchone()[0]


def test_missing_or_wrong_token_is_401_and_stores_nothing(client, db, buckets):
    body = minio_body(minio_record(buckets.raw, "a.csv", size=3))
    wrong_basic = base64.b64encode(b"notifier:nope").decode()
    for headers in (
        {},
        {"Authorization": "Bearer nope"},
        {"Authorization": "Basic abc"},
        {"Authorization": f"Basic {wrong_basic}"},
        {"Authorization": f"Token {TOKEN}"},
        {"Authorization": TOKEN},
    ):
        response = client.post("/events", data=body, headers=headers)
        assert response.status_code == 401
        assert response.json["error"]["code"] == "unauthorized"
    assert count(db, "intake_events") == 0
    assert count(db, "dead_letters") == 0


def test_basic_auth_with_the_token_as_password_is_accepted(client, db, buckets):
    # Ceph RGW and SNS can only send credentials embedded in the endpoint URL.
    credentials = base64.b64encode(f"ceph:{TOKEN}".encode()).decode()
    body = minio_body(minio_record(buckets.raw, "a.csv", size=3))
    response = client.post("/events", data=body, headers={"Authorization": f"Basic {credentials}"})
    assert response.status_code == 200
    assert count(db, "intake_events") == 1


def test_liveness_probes_answer_200(client):
    assert client.head("/events").status_code == 200
    assert client.get("/events").status_code == 200
    assert client.head("/").status_code == 200
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200


def test_event_is_stored_verbatim_and_duplicates_are_acknowledged_once(client, auth, db, buckets):
    record = minio_record(buckets.raw, "in/day 1/a+b.csv", size=3, etag="abc")
    body = minio_body(record)
    first = client.post("/events", data=body, headers=auth)
    assert first.status_code == 200
    assert first.json == {
        "sender": "minio",
        "accepted": 1,
        "duplicates": 0,
        "unmapped": 0,
        "ignored": 0,
    }
    again = client.post("/events", data=body, headers=auth)
    assert again.status_code == 200
    assert again.json["duplicates"] == 1
    assert again.json["accepted"] == 0
    db.row_factory = dict_row
    (stored,) = db.execute("SELECT * FROM intake_events").fetchall()
    assert stored["object_key"] == "in/day 1/a+b.csv"
    assert stored["status"] == "pending"
    assert stored["payload"] == record
    assert stored["origin"] == "webhook"


def test_many_records_in_one_body(client, auth, db, buckets):
    records = [minio_record(buckets.raw, f"part-{i}.csv", size=1) for i in range(10)]
    response = client.post("/events", data=minio_body(*records), headers=auth)
    assert response.json["accepted"] == 10
    assert count(db, "intake_events") == 10


@pytest.mark.parametrize(
    "body",
    [b"{not json", b'{"Records": "nope"}', b'{"EventName": "x"}', b"\x00\x01binary"],
)
def test_unparseable_body_is_dead_lettered_with_2xx(client, auth, db, body):
    response = client.post("/events", data=body, headers=auth, content_type="application/json")
    assert response.status_code == 202
    assert response.json["dead_lettered"] is True
    db.row_factory = dict_row
    (letter,) = db.execute("SELECT * FROM dead_letters").fetchall()
    assert letter["id"] == response.json["dead_letter_id"]
    assert letter["reason"] == response.json["reason"]
    assert letter["body"] == body.decode("utf-8", "backslashreplace").replace("\x00", "\\x00")
    assert count(db, "intake_events") == 0


def test_dead_letter_keeps_the_body_verbatim(client, auth, db):
    body = '{"Records": [{"eventName": "s3:ObjectCreated:Put", "s3": 5}], "é": 1}'
    client.post("/events", data=body.encode(), headers=auth)
    assert db.execute("SELECT body FROM dead_letters").fetchone()[0] == body


def test_nul_character_cannot_be_stored_so_it_is_dead_lettered(client, auth, db, buckets):
    record = minio_record(buckets.raw, "a.csv", size=3)
    record["s3"]["object"]["userMetadata"]["X-Amz-Meta-Bad"] = "a\u0000b"
    response = client.post("/events", data=minio_body(record), headers=auth)
    assert response.status_code == 202
    assert count(db, "dead_letters") == 1
    assert count(db, "intake_events") == 0


def test_oversized_body_is_413(settings, pool, auth, db, buckets):
    small = create_app(dataclasses.replace(settings, max_body_bytes=2048), pool).test_client()
    records = [minio_record(buckets.raw, f"f{i}.csv", size=1) for i in range(5)]
    response = small.post("/events", data=minio_body(*records), headers=auth)
    assert response.status_code == 413
    assert response.json["error"]["status"] == 413
    assert count(db, "intake_events") == 0


def test_unmapped_bucket_and_removals_are_stored_without_blocking(client, auth, db, buckets):
    body = minio_body(
        minio_record("someone-elses-bucket", "x.csv", size=3),
        minio_record(buckets.raw, "gone.csv", event_name="s3:ObjectRemoved:Delete"),
    )
    response = client.post("/events", data=body, headers=auth)
    assert response.status_code == 200
    assert response.json["unmapped"] == 1
    statuses = dict(db.execute("SELECT event_kind, status FROM intake_events").fetchall())
    assert statuses == {"created": "ignored", "removed": "pending"}


def test_unknown_route_uses_the_json_error_shape(client):
    response = client.get("/nowhere")
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"
    assert client.delete("/events").json["error"]["status"] == 405


@pytest.fixture(scope="module")
def flaky_postgres(tmp_path_factory):
    server = LocalPostgres(
        data_dir=tmp_path_factory.mktemp("flaky") / "data", port=free_port(), ephemeral=True
    )
    server.start()
    with psycopg.connect(server.url, autocommit=True) as conn:
        upgrade(conn)
    yield server
    server.stop()


def test_database_down_is_503_and_the_retry_is_stored_once(flaky_postgres, settings, auth, buckets):
    pool = create_pool(flaky_postgres.url, 2)
    try:
        app = create_app(dataclasses.replace(settings, database_url=flaky_postgres.url), pool)
        client = app.test_client()
        body = minio_body(minio_record(buckets.raw, "during-outage.csv", size=5))
        flaky_postgres.stop()
        down = client.post("/events", data=body, headers=auth)
        assert down.status_code == 503
        assert down.headers["Retry-After"]
        assert down.json["error"]["code"] == "database_unavailable"
        assert client.get("/readyz").status_code == 503
        flaky_postgres.start()
        # MinIO's queue_dir retries every 3 s until a 2xx; the pool reconnects on its own
        # backoff schedule, so the first retries may still be 503.
        statuses = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and 200 not in statuses:
            statuses.append(client.post("/events", data=body, headers=auth).status_code)
        assert statuses[-1] == 200, statuses
        assert set(statuses) <= {200, 503}
        client.post("/events", data=body, headers=auth)  # a late duplicate delivery
        assert client.get("/readyz").status_code == 200
    finally:
        pool.close()
    with psycopg.connect(flaky_postgres.url) as conn:
        keys = [r[0] for r in conn.execute("SELECT object_key FROM intake_events")]
    assert keys == ["during-outage.csv"]


def test_response_bodies_are_json(client, auth, buckets):
    response = client.post(
        "/events", data=minio_body(minio_record(buckets.raw, "a", size=1)), headers=auth
    )
    assert response.content_type == "application/json"
    json.loads(response.data)


def test_auth_can_be_disabled_explicitly(settings, pool, db, buckets):
    open_app = create_app(dataclasses.replace(settings, auth_token=None), pool).test_client()
    body = minio_body(minio_record(buckets.raw, "open.csv", size=3))
    assert open_app.post("/events", data=body).status_code == 200
    assert count(db, "intake_events") == 1
