"""Grouped commits at intake: concurrent requests share a statement, never a failure."""

from __future__ import annotations

import threading

import psycopg

from notifier.intake.group_commit import CommitGroup, _Request
from notifier.intake.parse import parse_body
from notifier.intake.store import _insert, _params
from tests.support import minio_body, minio_record


def rows_of(body: bytes) -> list[dict]:
    return [_params(event, True) for event in parse_body(body).events]


def test_a_refused_request_does_not_fail_the_others_in_its_group(pool, db, buckets):
    good = rows_of(minio_body(minio_record(buckets.raw, "good.csv", size=3)))
    bad_record = minio_record(buckets.raw, "bad.csv", size=3)
    bad_record["s3"]["object"]["userMetadata"]["X-Amz-Meta-Bad"] = "a\u0000b"
    bad = rows_of(minio_body(bad_record))
    also_good = rows_of(minio_body(minio_record(buckets.raw, "also-good.csv", size=3)))
    group = [_Request(good), _Request(bad), _Request(also_good)]
    CommitGroup(pool, _insert)._flush(group)
    assert all(request.done.is_set() for request in group)
    assert list(group[0].inserted) == [good[0]["dedup_key"]]
    assert isinstance(group[1].error, psycopg.DataError)
    assert list(group[2].inserted) == [also_good[0]["dedup_key"]]
    keys = db.execute("SELECT object_key FROM intake_events ORDER BY object_key").fetchall()
    assert keys == [("also-good.csv",), ("good.csv",)]


def test_the_same_event_in_one_group_is_stored_once_and_credited_once(pool, db, buckets):
    body = minio_body(minio_record(buckets.raw, "twice.csv", size=3))
    group = [_Request(rows_of(body)), _Request(rows_of(body))]
    CommitGroup(pool, _insert)._flush(group)
    assert [len(request.inserted) for request in group] == [1, 0]
    assert db.execute("SELECT count(*) FROM intake_events").fetchone() == (1,)


def test_concurrent_senders_and_redeliveries_store_each_event_once(app, auth, db, buckets):
    senders = 16
    bodies = [minio_body(minio_record(buckets.raw, f"c{n}.csv", size=3)) for n in range(8)]
    answers: list[dict] = []
    lock = threading.Lock()
    start = threading.Barrier(senders)

    def send(n: int) -> None:
        client = app.test_client()
        start.wait()
        response = client.post("/events", data=bodies[n % len(bodies)], headers=auth)
        with lock:
            answers.append({"status": response.status_code, **response.json})

    threads = [threading.Thread(target=send, args=(n,)) for n in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {a["status"] for a in answers} == {200}
    assert sum(a["accepted"] for a in answers) == len(bodies)
    assert sum(a["duplicates"] for a in answers) == senders - len(bodies)
    assert db.execute(
        "SELECT count(DISTINCT object_key), count(*) FROM intake_events"
    ).fetchone() == (
        len(bodies),
        len(bodies),
    )


def test_a_value_the_database_refuses_fails_only_its_own_request(pool, db, buckets):
    good = rows_of(minio_body(minio_record(buckets.raw, "fine.csv", size=3)))
    # A size over bigint: PostgreSQL refuses the value (long keys, once refused by the
    # btree index, are stored since migration 004's hash indexes).
    refused = rows_of(minio_body(minio_record(buckets.raw, "huge.csv", size=2**70)))
    group = [_Request(refused), _Request(good)]
    CommitGroup(pool, _insert)._flush(group)
    assert isinstance(group[0].error, psycopg.errors.NumericValueOutOfRange)
    assert list(group[1].inserted) == [good[0]["dedup_key"]]
    assert db.execute("SELECT object_key FROM intake_events").fetchall() == [("fine.csv",)]
