"""Batch processing and leases that follow the work: real processes, PostgreSQL and S3."""

from __future__ import annotations

import dataclasses
import gzip
import io
import signal
import threading
import time

import psycopg
import pytest
from psycopg_pool import PoolTimeout

from notifier.processing import Processor
from notifier.processing.leases import LeaseRenewal
from notifier.storage import ObjectStore, make_client
from tests.integration.test_cli import _post_via_app, env_for, notifier, wait_for
from tests.support import minio_body, record_for_stat

SMALL_CSV = b'id,comment\n1,"a, b"\n2,"two\nlines"\n3,x\n'
LONG_ROWS = 250_000_000


@pytest.fixture(scope="module")
def long_csv_gz() -> bytes:
    """Counting it takes seconds even on an idle machine (1 GB of CSV, gzipped to 4 MB,
    3.4 s): its last line is blank, so the exact scanner reads all of it before it gives
    up, and pyarrow (which skips the blank line) counts its tiny records again from the
    first byte."""
    out = io.BytesIO()
    block = b"1,2\n" * 1_000_000
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=1) as compressed:
        compressed.write(b"id,v\n")
        for _ in range(LONG_ROWS // 1_000_000):
            compressed.write(block)
        compressed.write(b"\n")
    return out.getvalue()


def put(s3_client, bucket: str, key: str, data: bytes) -> None:
    s3_client.put_object(bucket, key, io.BytesIO(data), len(data))


def counting_store(settings) -> tuple[ObjectStore, list[tuple[str, str]]]:
    """A real client whose HTTP requests are recorded (method and URL)."""
    client = make_client(settings.s3)
    sent: list[tuple[str, str]] = []
    original = client._http.urlopen

    def urlopen(method, url, *args, **kwargs):
        sent.append((method, url))
        return original(method, url, *args, **kwargs)

    client._http.urlopen = urlopen
    return ObjectStore(client), sent


def test_a_batch_of_small_objects_takes_one_get_each_and_one_commit(
    settings, pool, client, auth, s3_client, buckets, db
):
    records = []
    for n in range(5):
        put(s3_client, buckets.raw, f"part-{n}.csv", SMALL_CSV)
        records.append(record_for_stat(s3_client, buckets.raw, f"part-{n}.csv"))
    assert client.post("/events", data=minio_body(*records), headers=auth).status_code == 200
    store, sent = counting_store(settings)
    commits_before = db.execute(
        "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
    ).fetchone()[0]
    assert Processor(settings, pool, store).process_batch() == 5
    # One GET per object, no HEAD before it; minio asks a bucket's region once per client.
    per_object = [method for method, url in sent if not url.endswith("?location=")]
    assert per_object == ["GET"] * 5, sent
    assert len(sent) <= 6
    got = db.execute(
        "SELECT object_key, num_registros, estado FROM ingestion_events ORDER BY object_key"
    ).fetchall()
    assert got == [(f"part-{n}.csv", 3, "ok") for n in range(5)]
    assert db.execute("SELECT DISTINCT status, attempts FROM intake_events").fetchall() == [
        ("done", 1)
    ]
    time.sleep(0.7)  # statistics reach pg_stat_database when the backends go idle
    db.execute("SELECT pg_stat_clear_snapshot()")
    commits = (
        db.execute(
            "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()[0]
        - commits_before
    )
    # the claim, the batch's transaction, and this test's own statements: not one per event
    assert commits < 5, commits


def test_large_objects_are_handled_alone_and_the_others_given_back(
    settings, pool, client, auth, s3_client, buckets, db
):
    big = b"id\n" + b"1\n" * 600_000  # 1.2 MB: over the in-memory limit
    for n in range(3):
        put(s3_client, buckets.raw, f"big-{n}.csv", big)
        record = record_for_stat(s3_client, buckets.raw, f"big-{n}.csv")
        assert client.post("/events", data=minio_body(record), headers=auth).status_code == 200
    processor = Processor(settings, pool, ObjectStore(make_client(settings.s3)))
    assert processor.process_batch() == 1
    statuses = db.execute("SELECT status, attempts FROM intake_events ORDER BY id").fetchall()
    assert statuses == [("done", 1), ("pending", 0), ("pending", 0)]
    assert processor.drain() == 2
    assert db.execute("SELECT count(*), sum(num_registros) FROM ingestion_events").fetchone() == (
        3,
        1_800_000,
    )


def test_renewal_extends_only_the_leases_still_held(settings, pool, client, auth, buckets, db):
    body = minio_body(*[record_for_stat_free(buckets.raw, f"k{n}") for n in range(2)])
    assert client.post("/events", data=body, headers=auth).status_code == 200
    short = dataclasses.replace(settings, lease_seconds=30.0)
    processor = Processor(short, pool, ObjectStore(make_client(settings.s3)))
    claimed = processor._claim()
    assert len(claimed) == 2
    # Another worker took the second event after its lease ran out.
    db.execute("UPDATE intake_events SET attempts = attempts + 1 WHERE id = %s", (claimed[1].id,))
    db.execute("UPDATE intake_events SET next_attempt_at = now() + interval '1 second'")
    renewal = LeaseRenewal(pool, lease_seconds=600.0, every_seconds=60.0)
    renewal.hold(claimed)
    assert renewal.renew() == 1
    leases = db.execute(
        "SELECT id, next_attempt_at - now() > interval '500 seconds' FROM intake_events ORDER BY id"
    ).fetchall()
    assert leases == [(claimed[0].id, True), (claimed[1].id, False)]
    renewal.drop(claimed[:1])
    assert renewal.renew() == 0


def record_for_stat_free(bucket: str, key: str) -> dict:
    from tests.support import minio_record

    return minio_record(bucket, key, size=10, etag=f"{abs(hash(key)):032x}"[:32])


def test_a_live_worker_keeps_its_event_past_the_lease(
    settings, pool, client, auth, s3_client, buckets, db, long_csv_gz
):
    put(s3_client, buckets.raw, "slow.csv.gz", long_csv_gz)
    record = record_for_stat(s3_client, buckets.raw, "slow.csv.gz")
    assert client.post("/events", data=minio_body(record), headers=auth).status_code == 200
    lease = 1.2
    short = dataclasses.replace(settings, lease_seconds=lease)
    working = Processor(short, pool, ObjectStore(make_client(settings.s3)))
    other = Processor(short, pool, ObjectStore(make_client(settings.s3)))
    started = time.monotonic()
    thread = threading.Thread(target=working.process_batch)
    thread.start()
    stolen = 0
    while thread.is_alive():
        stolen += other.process_batch()
        time.sleep(0.05)
    thread.join()
    elapsed = time.monotonic() - started
    assert elapsed > lease + 0.3, "inspection too fast to need a renewal"
    assert stolen == 0
    assert db.execute("SELECT status, attempts FROM intake_events").fetchall() == [("done", 1)]
    assert db.execute("SELECT num_registros, estado FROM ingestion_events").fetchall() == [
        (LONG_ROWS, "ok")
    ]


def test_worker_killed_mid_batch_is_retaken_within_the_short_lease(
    settings, buckets, s3_client, db, long_csv_gz
):
    records = []
    for n in range(6):
        put(s3_client, buckets.raw, f"small-{n}.csv", SMALL_CSV)
        records.append(record_for_stat(s3_client, buckets.raw, f"small-{n}.csv"))
    put(s3_client, buckets.raw, "slow.csv.gz", long_csv_gz)
    # The event under-reports the size, so the slow object sits inside the batch of
    # small ones (read by a second GET once the first shows its real length).
    records.insert(3, record_for_stat(s3_client, buckets.raw, "slow.csv.gz", size=100))
    lease = 4.0
    env = env_for(settings, buckets, NOTIFIER_LEASE_SECONDS=str(lease))
    worker = notifier("worker", "--threads", "1", env=env)
    try:
        with psycopg.connect(settings.database_url, autocommit=True) as conn:
            _post_via_app(settings, buckets, minio_body(*records))
            wait_for(
                lambda: conn.execute(
                    "SELECT count(*) = 7 FROM intake_events WHERE status = 'processing'"
                ).fetchone()[0],
                "the worker to claim the batch",
            )
            time.sleep(0.3)  # into the slow object
            assert conn.execute("SELECT count(*) FROM ingestion_events").fetchone()[0] == 0
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        killed = time.monotonic()
    finally:
        if worker.poll() is None:
            worker.kill()
        worker.communicate()
    # Nothing of the batch was committed; no event is taken before its lease runs out.
    assert db.execute("SELECT count(*) FROM ingestion_events").fetchone()[0] == 0
    short = dataclasses.replace(settings, lease_seconds=lease)
    processor = Processor(short, pool_for(settings), ObjectStore(make_client(settings.s3)))
    try:
        assert processor.process_batch() == 0
        handled, retaken_at = retake(processor, settings.database_url, timeout=lease + 5)
        retaken_after = retaken_at - killed
        handled += processor.drain()
    finally:
        processor._pool.close()
    assert retaken_after < lease + 2
    assert handled == 7
    counts = db.execute(
        "SELECT object_key, num_registros FROM ingestion_events ORDER BY object_key"
    ).fetchall()
    assert counts == [("slow.csv.gz", LONG_ROWS)] + [(f"small-{n}.csv", 3) for n in range(6)]
    assert db.execute("SELECT DISTINCT status, attempts FROM intake_events").fetchall() == [
        ("done", 2)
    ]


def retake(processor: Processor, url: str, timeout: float) -> tuple[int, float]:
    """Wait for ``processor`` to take the events again; returns how many it handled and
    the moment (time.monotonic) its claim was seen, before the inspection that follows."""
    handled: list[int] = []
    thread = threading.Thread(
        target=lambda: handled.append(
            wait_for(processor.process_batch, "the lease to run out", timeout=timeout)
        )
    )
    thread.start()
    with psycopg.connect(url, autocommit=True) as conn:
        wait_for(
            lambda: conn.execute("SELECT max(attempts) >= 2 FROM intake_events").fetchone()[0],
            "the claim",
            timeout=timeout,
        )
        claimed_at = time.monotonic()
    thread.join()
    assert handled, "the events were not taken again"
    return handled[0], claimed_at


def pool_for(settings):
    from notifier.db import create_pool

    return create_pool(settings.database_url, 3, open_now=True)


def test_worker_processes_share_the_queue_and_stop_on_sigterm(settings, buckets, s3_client, db):
    records = []
    for n in range(40):
        put(s3_client, buckets.raw, f"p-{n:02d}.csv", SMALL_CSV)
        records.append(record_for_stat(s3_client, buckets.raw, f"p-{n:02d}.csv"))
    env = env_for(settings, buckets, NOTIFIER_WORKER_BATCH_SIZE="4")
    worker = notifier("worker", "--processes", "2", "--threads", "1", env=env)
    try:
        _post_via_app(settings, buckets, minio_body(*records))
        wait_for(
            lambda: db.execute("SELECT count(*) FROM ingestion_events").fetchone()[0] == 40,
            "every row",
        )
    finally:
        worker.send_signal(signal.SIGTERM)
        _, stderr = worker.communicate(timeout=60)
    assert worker.returncode == 0, stderr
    assert "started 2 worker process(es)" in stderr
    distinct = db.execute("SELECT count(DISTINCT intake_event_id) FROM ingestion_events")
    assert distinct.fetchone() == (40,)


@pytest.fixture
def own_postgres(tmp_path_factory):
    """A PostgreSQL of this test's own, to stop and start."""
    from notifier.db import upgrade
    from notifier.devstack.servers import LocalPostgres, free_port

    server = LocalPostgres(
        data_dir=tmp_path_factory.mktemp("outage") / "data", port=free_port(), ephemeral=True
    )
    server.start()
    with psycopg.connect(server.url, autocommit=True) as conn:
        upgrade(conn)
    yield server
    server.stop()


def test_event_held_across_a_database_outage_is_retaken_after_the_short_lease(
    own_postgres, settings, s3_client, buckets, long_csv_gz
):
    from notifier.db import create_pool
    from notifier.intake.parse import parse_body
    from notifier.intake.store import store_events

    put(s3_client, buckets.raw, "slow.csv.gz", long_csv_gz)
    record = record_for_stat(s3_client, buckets.raw, "slow.csv.gz")
    lease = 3.0
    local = dataclasses.replace(settings, database_url=own_postgres.url, lease_seconds=lease)
    pool = create_pool(local.database_url, 3, open_now=True)
    try:
        store_events(pool, parse_body(minio_body(record)).events, local.phase_of)
        first = Processor(local, pool, ObjectStore(make_client(local.s3)))
        failures: list[BaseException] = []

        def work() -> None:
            try:
                first.process_batch()
            except (psycopg.OperationalError, PoolTimeout) as exc:
                failures.append(exc)

        thread = threading.Thread(target=work)
        thread.start()
        with psycopg.connect(own_postgres.url, autocommit=True) as conn:
            wait_for(
                lambda: conn.execute("SELECT status = 'processing' FROM intake_events").fetchone()[
                    0
                ],
                "the claim",
            )
        own_postgres.stop()  # mid-object: the worker can neither renew nor finish
        thread.join(timeout=60)
        assert failures, "the worker should have lost the database before finishing"
        own_postgres.start()
        back = time.monotonic()
        pool.check()
        second = Processor(local, pool, ObjectStore(make_client(local.s3)))
        handled, retaken_at = retake(second, own_postgres.url, timeout=lease + 10)
        retaken_after = retaken_at - back
    finally:
        pool.close()
    assert handled == 1
    assert retaken_after < lease + 2
    with psycopg.connect(own_postgres.url) as conn:
        assert conn.execute("SELECT status, attempts FROM intake_events").fetchall() == [
            ("done", 2)
        ]
        rows = conn.execute("SELECT num_registros, estado FROM ingestion_events").fetchall()
    assert rows == [(LONG_ROWS, "ok")]


def test_an_outcome_the_database_refuses_does_not_hold_back_its_batch(
    settings, pool, client, auth, buckets, db
):
    from notifier.inspection import Inspection
    from notifier.phases import Phase
    from notifier.processing.worker import Batch

    body = minio_body(*[record_for_stat_free(buckets.raw, f"b{n}.csv") for n in range(3)])
    assert client.post("/events", data=body, headers=auth).status_code == 200
    processor = Processor(settings, pool, ObjectStore(make_client(settings.s3)))
    claimed = processor._claim()
    refused = Inspection.ok("csv", 2**70, {})  # over bigint: PostgreSQL refuses the row
    batch = Batch(
        rows=[
            (claimed[0], Phase.INGESTION, Inspection.ok("csv", 1, {})),
            (claimed[1], Phase.INGESTION, refused),
            (claimed[2], Phase.INGESTION, Inspection.ok("csv", 2, {})),
        ]
    )
    processor._commit(batch)
    rows = db.execute(
        "SELECT object_key, estado, num_registros FROM ingestion_events ORDER BY object_key"
    ).fetchall()
    # The refused row becomes an error row at once; its neighbours are written as they were.
    assert rows == [("b0.csv", "ok", 1), ("b1.csv", "error", None), ("b2.csv", "ok", 2)]
    reason = db.execute(
        "SELECT reason FROM ingestion_events WHERE object_key = 'b1.csv'"
    ).fetchone()[0]
    assert reason.startswith("audit row could not be stored")
    statuses = db.execute("SELECT object_key, status FROM intake_events ORDER BY id").fetchall()
    assert statuses == [("b0.csv", "done"), ("b1.csv", "done"), ("b2.csv", "done")]


def test_rescan_with_processes_records_every_object_once(settings, buckets, s3_client, db):
    from tests.integration.test_backfill import run

    for n in range(30):
        put(s3_client, buckets.raw, f"old/{n:02d}.csv", SMALL_CSV)
    done = run(
        settings, buckets, "rescan", "--processes", "2", "--concurrency", "2",
        NOTIFIER_WORKER_BATCH_SIZE="4",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "new: 30" in done.stdout
    assert "ok: 30" in done.stdout
    assert "inspected: 30/30" in done.stderr
    counts = db.execute(
        "SELECT count(*), count(DISTINCT intake_event_id), sum(num_registros) FROM ingestion_events"
    ).fetchone()
    assert counts == (30, 30, 90)
