"""Poison events never block the queue (issue 13, item 3).

Only a lost database is a 503. A body notifier cannot read, and an event the database
refuses for what it holds, are dead letters answered 2xx; a body over the limit is a
413 however it is sent (chunked included, through a real gunicorn).
"""

from __future__ import annotations

import http.client
import json
import secrets

import psycopg
import pytest
from psycopg.rows import tuple_row

from notifier.intake.refusal import refusal_reason
from tests.conftest import TOKEN
from tests.processes import gunicorn, settings_env
from tests.support import minio_body, minio_record


def count(db: psycopg.Connection, table: str) -> int:
    cursor = db.cursor(row_factory=tuple_row)
    return cursor.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def deep_body(depth: int) -> bytes:
    return b'{"Records":' + b"[" * depth + b"]" * depth + b"}"


def bigint_body(bucket: str) -> bytes:
    record = minio_record(bucket, "big.csv", size=5)
    body = minio_body(record).decode()
    return body.replace('"size":5', '"size":' + "7" * 5000).encode()


def surrogate_key_body(bucket: str) -> bytes:
    body = minio_body(minio_record(bucket, "lone.csv", size=5)).decode()
    return body.replace("lone.csv", "lone\\ud800.csv").encode()


def surrogate_metadata_body(bucket: str) -> bytes:
    record = minio_record(bucket, "meta.csv", size=5, user_metadata={"X-Amz-Meta-Note": "x"})
    return minio_body(record).decode().replace('"x"', '"\\udc00"').encode()


@pytest.mark.parametrize(
    "make_body",
    [
        lambda bucket: deep_body(100_000),
        lambda bucket: b"[" * 100_000,
        bigint_body,
        surrogate_key_body,
        surrogate_metadata_body,
        lambda bucket: b'{"Records": [{"s3": {"object": {"key": 1e400}}}]}',
        # Found by the fuzzers: a reason quoting a field name with a NUL or a lone
        # surrogate could not be stored as a dead letter (a 500).
        lambda bucket: b'{"\\u0000": null}',
        lambda bucket: b'{"\\ud800": null}',
    ],
    ids=[
        "nested-100k",
        "unterminated-100k",
        "5000-digit-int",
        "lone-surrogate-key",
        "lone-surrogate-metadata",
        "infinite-float",
        "nul-field-name",
        "surrogate-field-name",
    ],
)
def test_hostile_bodies_are_dead_lettered_with_202(client, auth, db, buckets, make_body):
    body = make_body(buckets.raw)
    response = client.post("/events", data=body, headers=auth, content_type="application/json")
    assert response.status_code == 202, response.data[:300]
    assert response.json["dead_lettered"] is True
    assert count(db, "dead_letters") == 1
    assert count(db, "intake_events") == 0


def test_an_event_source_that_is_not_a_string_is_no_crash(client, auth, db, buckets):
    # Found by the fuzzers: a list there raised TypeError (unhashable) in the parser.
    body = minio_body(minio_record(buckets.raw, "x+y.csv", size=3))
    body = body.replace(b'"eventSource":"minio:s3"', b'"eventSource":[]')
    response = client.post("/events", data=body, headers=auth)
    assert response.status_code == 200, response.json
    assert db.execute("SELECT object_key FROM intake_events").fetchall() == [("x+y.csv",)]


def test_a_3kb_key_is_stored_and_audited(client, auth, db, buckets, processor):
    key = "deep/" + secrets.token_hex(1500) + ".csv"  # incompressible, unlike "k" * 3000
    body = minio_body(minio_record(buckets.raw, key, size=5, etag="abc"))
    response = client.post("/events", data=body, headers=auth)
    assert response.status_code == 200, response.json
    assert response.json["accepted"] == 1
    assert client.post("/events", data=body, headers=auth).json["duplicates"] == 1
    assert processor.drain() == 1
    (estado,) = db.execute(
        "SELECT estado FROM ingestion_events WHERE object_key = %s", (key,)
    ).fetchone()
    assert estado == "skipped"  # the object does not exist in the store


def test_an_event_the_database_refuses_is_dead_lettered_not_503(client, auth, db, buckets):
    # The index that refused long keys before migration 004, put back: the database
    # refuses the event for its content, which no retry can change.
    db.execute("CREATE INDEX refusing_object ON intake_events (bucket, object_key)")
    body = minio_body(minio_record(buckets.raw, secrets.token_hex(1500), size=5))
    response = client.post("/events", data=body, headers=auth)
    assert response.status_code == 202, response.json
    assert "54000" in response.json["reason"]
    assert count(db, "dead_letters") == 1
    assert count(db, "intake_events") == 0
    assert client.get("/readyz").status_code == 200


def test_refusals_are_told_apart_from_outages(db, database_url):
    db.execute("CREATE TEMPORARY TABLE t (v text, n bigint)")
    db.execute("CREATE INDEX ON t (v)")
    with pytest.raises(psycopg.Error) as too_long:
        db.execute("INSERT INTO t (v) VALUES (%s)", (secrets.token_hex(5000),))
    assert refusal_reason(too_long.value).startswith("the database refused the event (54000)")
    with pytest.raises(psycopg.Error) as out_of_range:
        db.execute("INSERT INTO t (n) VALUES (%s::numeric)", (10**30,))
    assert "(22003)" in refusal_reason(out_of_range.value)
    with pytest.raises(psycopg.OperationalError) as unreachable:
        psycopg.connect("postgresql://127.0.0.1:1/x", connect_timeout=2)
    assert refusal_reason(unreachable.value) is None
    with pytest.raises(psycopg.Error) as missing:
        db.execute("SELECT * FROM no_such_table")
    assert refusal_reason(missing.value) is None


def chunks(body: bytes, size: int = 64 * 1024):
    for start in range(0, len(body), size):
        yield body[start : start + size]


def post_chunked(port: int, body: bytes) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(
            "POST",
            "/events",
            body=chunks(body),
            headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
            encode_chunked=True,
        )
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def padded_body(bucket: str, key: str, size: int) -> bytes:
    record = minio_record(bucket, key, size=5, user_metadata={"X-Amz-Meta-Pad": ""})
    body = minio_body(record)
    pad = size - len(body)
    return body.replace(b'"X-Amz-Meta-Pad":""', b'"X-Amz-Meta-Pad":"' + b"p" * pad + b'"')


def test_chunked_bodies_over_the_limit_are_413_through_gunicorn(settings, db, buckets, tmp_path):
    limit = settings.max_body_bytes  # 1 MiB by default
    big = padded_body(buckets.raw, "big.csv", 1_400_000)
    exact = padded_body(buckets.raw, "exact.csv", limit)
    one_over = padded_body(buckets.raw, "one-over.csv", limit + 1)
    assert (len(big), len(exact), len(one_over)) == (1_400_000, limit, limit + 1)
    json.loads(big)
    with gunicorn(settings_env(settings), tmp_path, "--workers=1") as receiver:
        status, reply = post_chunked(receiver.port, big)
        assert status == 413, reply
        assert json.loads(reply)["error"]["status"] == 413
        assert post_chunked(receiver.port, one_over)[0] == 413
        status, reply = post_chunked(receiver.port, exact)
        assert status == 200, reply
        # With Content-Length, as MinIO sends it.
        status, _ = receiver.request("POST", "/events", big, {"Authorization": f"Bearer {TOKEN}"})
        assert status == 413
    keys = [r[0] for r in db.execute("SELECT object_key FROM intake_events")]
    assert keys == ["exact.csv"]
    assert count(db, "dead_letters") == 0
