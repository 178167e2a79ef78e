"""Two receivers and three workers under load, with concurrent redeliveries and a
worker killed mid-stream (issue 13, item 10).

Two gunicorn receivers (the shipped configuration, one process each) take EVENTS
distinct events; REDELIVERED of them are sent a second time, to the other receiver, at
the same moment as the first delivery (MinIO delivers at least once, and two MinIO
nodes may deliver one event). Three `notifier worker` processes audit them; one is
killed with SIGKILL mid-stream and replaced. Every event is a new version of one tiny
object (a distinct sequencer each), so the test measures notifier, not the store.
Proven: exactly one intake row and one audit row per event; 0 lost, 0 doubled.
"""

from __future__ import annotations

import http.client
import io
import json
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from tests.conftest import TOKEN
from tests.processes import Receiver, gunicorn, settings_env, workers
from tests.support import minio_body, record_for_stat

EVENTS = 10_000
KEYS = 100
REDELIVERED_EVERY = 5
"""Every fifth event is delivered twice, concurrently: 20 %."""
RECORDS_PER_BODY = 50
"""Several records per POST (as AWS-style senders batch) keeps HTTP overhead down: the
point is concurrency at the database, which is the same per record."""
SENDER_THREADS = 8
BUDGET_SECONDS = 420.0
"""A bound, not a target: the run takes about a minute on an idle 2-core machine."""


class Senders:
    """Keep-alive connections, one per thread and receiver; all closed at the end."""

    def __init__(self) -> None:
        self._local = threading.local()
        self._opened: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()

    def post(self, receiver: Receiver, body: bytes, *, fresh: bool = False) -> dict[str, int]:
        conns = self._local.__dict__.setdefault("conns", {})
        for _ in range(3):
            conn = None if fresh else conns.get(receiver.port)
            if conn is None:
                conn = receiver.connection(timeout=60)
                with self._lock:
                    self._opened.append(conn)
                if not fresh:
                    conns[receiver.port] = conn
            try:
                conn.request("POST", "/events", body, {"Authorization": f"Bearer {TOKEN}"})
                response = conn.getresponse()
                reply = json.loads(response.read())
            except (OSError, http.client.HTTPException):
                conn.close()
                conns.pop(receiver.port, None)
                continue
            assert response.status == 200, reply
            return reply
        raise AssertionError("three connection failures in a row")

    def close(self) -> None:
        for conn in self._opened:
            conn.close()


def wait_for(predicate, what: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.timeout(BUDGET_SECONDS + 60)
def test_two_receivers_three_workers_concurrent_redeliveries_and_a_killed_worker(
    own_postgres, own_settings, s3_client, buckets, tmp_path
):
    deadline = time.monotonic() + BUDGET_SECONDS
    # 100 small objects, 100 events each: each key's state is derived from all of its
    # rows (notifier.audit.versions), so one key with 10,000 versions would measure that
    # derivation, not the concurrency this test is about.
    templates = []
    for k in range(KEYS):
        key = f"tiny-{k}.csv"
        s3_client.put_object(buckets.raw, key, io.BytesIO(b"a,b\n1,2\n3,4\n"), 12)
        templates.append(record_for_stat(s3_client, buckets.raw, key))

    def record(n: int) -> dict:
        template = templates[n % KEYS]
        copy = json.loads(json.dumps(template))
        base = int(template["s3"]["object"]["sequencer"], 16)
        copy["s3"]["object"]["sequencer"] = f"{base + n:X}"
        return copy

    bodies = [
        minio_body(*(record(n) for n in range(start, start + RECORDS_PER_BODY)))
        for start in range(0, EVENTS, RECORDS_PER_BODY)
    ]
    env = settings_env(own_settings, NOTIFIER_WORKER_THREADS="2", NOTIFIER_DB_POOL_SIZE="3")
    senders = Senders()
    replies: list[dict[str, int]] = []
    with (
        gunicorn(env, tmp_path, "--workers=1", name="receiver-a") as a,
        gunicorn(env, tmp_path, "--workers=1", name="receiver-b") as b,
        workers(env, tmp_path, 3) as running,
        psycopg.connect(own_postgres.url, autocommit=True) as db,
    ):

        def deliver(n: int) -> list[dict[str, int]]:
            first = a if n % 2 else b
            if n % REDELIVERED_EVERY:
                return [senders.post(first, bodies[n])]
            second = b if first is a else a
            with ThreadPoolExecutor(2) as both:  # the same body, at the same moment
                return list(
                    both.map(lambda r: senders.post(r, bodies[n], fresh=True), (first, second))
                )

        started = time.monotonic()
        try:
            with ThreadPoolExecutor(SENDER_THREADS) as pool:
                for batch in pool.map(deliver, range(len(bodies))):
                    replies.extend(batch)
        finally:
            senders.close()
        intake_seconds = time.monotonic() - started

        def audited() -> int:
            return db.execute("SELECT count(*) FROM ingestion_events").fetchone()[0]

        wait_for(lambda: audited() >= EVENTS // 3, "a third of the rows", deadline)
        running[0].send_signal(signal.SIGKILL)
        running[0].wait(10)
        # Its lease would run out on its own; end every lease now, so live workers'
        # events are taken over too (their late finish must roll back).
        db.execute("UPDATE intake_events SET next_attempt_at = now() WHERE status = 'processing'")
        with workers(env, tmp_path, 1, "--threads=2", name="replacement"):
            wait_for(
                lambda: db.execute(
                    "SELECT count(*) FROM intake_events WHERE status <> 'done'"
                ).fetchone()[0]
                == 0,
                "every event processed",
                deadline,
            )
        total_seconds = time.monotonic() - started
        intake_rows, distinct = db.execute(
            "SELECT count(*), count(DISTINCT dedup_key) FROM intake_events"
        ).fetchone()
        rows, events_with_rows, ok = db.execute(
            "SELECT count(*), count(DISTINCT intake_event_id),"
            " count(*) FILTER (WHERE estado = 'ok' AND num_registros = 2)"
            " FROM ingestion_events"
        ).fetchone()
    redelivered = len(range(0, len(bodies), REDELIVERED_EVERY)) * RECORDS_PER_BODY
    print(
        f"{EVENTS} events + {redelivered} redeliveries: intake {intake_seconds:.1f} s, "
        f"all audited {total_seconds:.1f} s"
    )
    assert sum(r["accepted"] for r in replies) == EVENTS
    assert sum(r["duplicates"] for r in replies) == redelivered
    assert (intake_rows, distinct) == (EVENTS, EVENTS)
    assert (rows, events_with_rows, ok) == (EVENTS, EVENTS, EVENTS)
