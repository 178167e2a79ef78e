"""rescan, reconcile and dead letters, run as users run them, against real servers."""

from __future__ import annotations

import io
import json
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pyarrow.parquet as pq
from psycopg.rows import dict_row

from tests.integration.test_cli import env_for
from tests.support import minio_body, record_for_stat

CSV = b'id,comment\n1,"a, b"\n2,"two\nlines"\n3,x\n'


def run(settings, buckets, *args, **extra_env):
    return subprocess.run(
        [sys.executable, "-m", "notifier", *args],
        env=env_for(settings, buckets, **extra_env),
        capture_output=True,
        text=True,
        timeout=300,
    )


def put(s3, bucket, key, data):
    s3.put_object(bucket, key, io.BytesIO(data), len(data))


def rows(db, table="ingestion_events"):
    db.row_factory = dict_row
    return db.execute(f"SELECT * FROM {table} ORDER BY object_key, id").fetchall()


def parquet_bytes(n: int) -> bytes:
    sink = io.BytesIO()
    pq.write_table(pa.table({"x": list(range(n))}), sink)
    return sink.getvalue()


def test_rescan_backfills_objects_that_predate_notifier(settings, buckets, s3_client, db):
    put(s3_client, buckets.raw, "old/day 1.csv", CSV)
    put(s3_client, buckets.raw, "old/notes.txt", b"free text")
    put(s3_client, buckets.silver, "clean/p.parquet", parquet_bytes(42))
    done = run(settings, buckets, "rescan")
    assert done.returncode == 0, done.stderr
    assert "new: 3" in done.stdout
    ingestion = rows(db)
    assert [(r["object_key"], r["estado"], r["num_registros"]) for r in ingestion] == [
        ("old/day 1.csv", "ok", 3),
        ("old/notes.txt", "skipped", None),
    ]
    assert all(r["origin"] == "rescan" for r in ingestion)
    stat = s3_client.stat_object(buckets.raw, "old/day 1.csv")
    assert ingestion[0]["timestamp_ingesta"] == stat.last_modified
    assert ingestion[0]["etag"] == stat.etag.strip('"')
    (silver,) = rows(db, "transformation_events")
    assert silver["num_registros"] == 42


def test_rescan_after_live_events_and_twice_adds_nothing(
    settings, buckets, s3_client, db, client, auth, processor
):
    put(s3_client, buckets.raw, "live.csv", CSV)
    client.post(
        "/events",
        data=minio_body(record_for_stat(s3_client, buckets.raw, "live.csv")),
        headers=auth,
    )
    processor.drain()
    put(s3_client, buckets.raw, "missed.csv", CSV)
    first = run(settings, buckets, "rescan", "--bucket", buckets.raw)
    assert first.returncode == 0, first.stderr
    assert "new: 1" in first.stdout
    assert "already audited: 1" in first.stdout
    second = run(settings, buckets, "rescan", "--bucket", buckets.raw)
    assert "new: 0" in second.stdout
    assert "already audited: 2" in second.stdout
    assert [(r["object_key"], r["origin"]) for r in rows(db)] == [
        ("live.csv", "webhook"),
        ("missed.csv", "rescan"),
    ]


def test_dry_run_and_since(settings, buckets, s3_client, db):
    put(s3_client, buckets.raw, "a.csv", CSV)
    dry = run(settings, buckets, "rescan", "--dry-run")
    assert dry.returncode == 0
    assert "1 object(s) would be recorded" in dry.stdout
    assert db.execute("SELECT count(*) FROM intake_events").fetchone()[0] == 0
    future = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%d")
    later = run(settings, buckets, "rescan", "--since", future)
    assert "new: 0" in later.stdout
    assert "outside window: 1" in later.stdout
    assert rows(db) == []


def test_unknown_bucket_is_a_usage_error(settings, buckets):
    done = run(settings, buckets, "rescan", "--bucket", "nope")
    assert done.returncode == 2
    assert "nope not in NOTIFIER_BUCKET_MAP" in done.stderr


def test_bucket_missing_from_the_store_is_reported(settings, buckets, s3_client):
    s3_client.remove_bucket(buckets.results)
    done = run(settings, buckets, "rescan", "--bucket", buckets.results)
    assert done.returncode == 1
    assert "NoSuchBucket" in done.stderr
    assert "Traceback" not in done.stderr


def test_store_unreachable_exits_3(settings, buckets):
    from notifier.devstack.servers import free_port

    done = run(settings, buckets, "rescan", NOTIFIER_S3_ENDPOINT=f"http://127.0.0.1:{free_port()}")
    assert done.returncode == 3
    assert "S3 unreachable" in done.stderr


def test_interrupted_rescan_resumes_without_repeating_work(settings, buckets, s3_client, db):
    total = 240
    for i in range(total):
        put(s3_client, buckets.raw, f"bulk/{i:04d}.csv", CSV)
    env = env_for(settings, buckets)
    interrupted = subprocess.Popen(
        [sys.executable, "-m", "notifier", "rescan", "--concurrency", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        written = db.execute("SELECT count(*) FROM ingestion_events").fetchone()[0]
        if written >= 5:
            break
        time.sleep(0.02)
    interrupted.send_signal(signal.SIGKILL)
    interrupted.communicate()
    before = db.execute("SELECT count(*) FROM ingestion_events").fetchone()[0]
    assert 5 <= before < total, "the interruption must land mid-run"
    # A killed worker's claimed event waits for its lease; let it run out now.
    db.execute("UPDATE intake_events SET next_attempt_at = now() WHERE status = 'processing'")
    resumed = run(settings, buckets, "rescan")
    assert resumed.returncode == 0, resumed.stderr
    assert "new: 0" in resumed.stdout  # everything was already queued by the first run
    counts = db.execute(
        "SELECT count(*), count(DISTINCT object_key) FROM ingestion_events"
    ).fetchone()
    assert counts == (total, total)


def test_reconcile_finds_each_drift_and_fix_repairs_it(
    settings, buckets, s3_client, db, client, auth, processor
):
    for key in ("kept.csv", "deleted.csv", "changed.csv"):
        put(s3_client, buckets.raw, key, CSV)
        body = minio_body(record_for_stat(s3_client, buckets.raw, key))
        client.post("/events", data=body, headers=auth)
    processor.drain()
    # Drift that no notification reported:
    s3_client.remove_object(buckets.raw, "deleted.csv")
    put(s3_client, buckets.raw, "changed.csv", CSV + b"4,y\n")
    put(s3_client, buckets.raw, "unnoticed.csv", CSV)

    report = run(settings, buckets, "reconcile", "--json")
    assert report.returncode == 1, report.stderr
    drift = {(d["kind"], d["key"]) for d in json.loads(report.stdout)["drift"]}
    assert drift == {
        ("gone", "deleted.csv"),
        ("changed", "changed.csv"),
        ("missing", "unnoticed.csv"),
    }

    table = run(settings, buckets, "reconcile")
    assert "3 drift(s): 1 missing, 1 gone, 1 changed" in table.stderr

    fixed = run(settings, buckets, "reconcile", "--fix")
    assert fixed.returncode == 0, fixed.stderr
    after = run(settings, buckets, "reconcile", "--json")
    assert after.returncode == 0
    assert json.loads(after.stdout)["drift"] == []

    by_key = {}
    for row in rows(db):
        by_key.setdefault(row["object_key"], []).append(row)
    assert by_key["deleted.csv"][0]["deleted_at"] is not None
    assert [r["num_registros"] for r in by_key["changed.csv"]] == [3, 4]
    assert by_key["unnoticed.csv"][0]["origin"] == "rescan"
    assert by_key["kept.csv"][0]["deleted_at"] is None


def test_dead_letters_list_retry_purge(settings, buckets, s3_client, db, client, auth):
    client.post("/events", data=b"{broken", headers=auth)
    put(s3_client, buckets.raw, "late.csv", CSV)
    # A body an older notifier could not read, but this one can:
    body = minio_body(record_for_stat(s3_client, buckets.raw, "late.csv")).decode()
    db.execute("INSERT INTO dead_letters (reason, body) VALUES ('old parser', %s)", (body,))

    listed = run(settings, buckets, "dead-letters", "list", "--json")
    assert [letter["reason"] for letter in json.loads(listed.stdout)][1] == "old parser"

    retried = run(settings, buckets, "dead-letters", "retry")
    assert retried.returncode == 1  # one is still unreadable
    assert "1 recovered, 1 still unreadable" in retried.stderr
    assert db.execute("SELECT object_key FROM intake_events").fetchall() == [("late.csv",)]
    waiting = json.loads(run(settings, buckets, "dead-letters", "list", "--json").stdout)
    assert len(waiting) == 1

    tomorrow = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%d")
    purged = run(settings, buckets, "dead-letters", "purge", "--before", tomorrow)
    assert "purged 2 dead letter(s)" in purged.stdout
    assert db.execute("SELECT count(*) FROM dead_letters").fetchone()[0] == 0
