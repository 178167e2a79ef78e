"""PostgreSQL stopped in the middle of a burst, then restarted (issue 13, items 7 and 10).

A real gunicorn receiver and a real `notifier worker` run against a cluster of the
test's own. Senders deliver as MinIO's queue_dir does: each event again every 3 s
until a 2xx. The database stops mid-burst and comes back OUTAGE_SECONDS later.
Proven: the receiver answers 2xx again within seconds of the database's return (the
pool's reconnect backoff is capped), and every event has exactly one row: 0 lost,
0 doubled.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import psycopg

from tests.conftest import TOKEN
from tests.processes import Receiver, gunicorn, settings_env, workers
from tests.support import minio_body, minio_record

EVENTS = 240
SENDERS = 4
MINIO_RETRY_SECONDS = 3.0
"""MinIO's queue_dir store retries a failed delivery every 3 s."""
OUTAGE_SECONDS = 20.0
RECOVERY_BUDGET_SECONDS = 8.0
PROBE_SECONDS = 0.25


@dataclass
class Tally:
    acknowledged: list[str] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, status: int) -> None:
        with self.lock:
            self.statuses[status] = self.statuses.get(status, 0) + 1


def deliver_until_2xx(receiver: Receiver, body: bytes, tally: Tally, deadline: float) -> bool:
    while time.monotonic() < deadline:
        try:
            status, _ = receiver.request(
                "POST", "/events", body, {"Authorization": f"Bearer {TOKEN}"}, timeout=30
            )
        except OSError:
            status = 0
        tally.note(status)
        if 200 <= status < 300:
            return True
        time.sleep(MINIO_RETRY_SECONDS)
    return False


def first_ready_after(receiver: Receiver, since: float, deadline: float) -> float | None:
    """Seconds from ``since`` to the first 200 of /readyz."""
    while time.monotonic() < deadline:
        try:
            if receiver.request("GET", "/readyz", timeout=10)[0] == 200:
                return time.monotonic() - since
        except OSError:
            pass
        time.sleep(PROBE_SECONDS)
    return None


def test_database_outage_mid_burst_loses_and_doubles_nothing(
    own_postgres, own_settings, buckets, tmp_path
):
    keys = [f"burst/{n:04d}.csv" for n in range(EVENTS)]
    bodies = [minio_body(minio_record(buckets.raw, key, size=3, etag="e")) for key in keys]
    env = settings_env(own_settings, NOTIFIER_WORKER_THREADS="2")
    tally = Tally()
    with gunicorn(env, tmp_path) as receiver, workers(env, tmp_path, 1):
        deadline = time.monotonic() + 120
        outage_started = threading.Event()

        def sender(start: int) -> None:
            for n in range(start, EVENTS, SENDERS):
                if n == EVENTS // 2:
                    outage_started.wait(30)
                if deliver_until_2xx(receiver, bodies[n], tally, deadline):
                    with tally.lock:
                        tally.acknowledged.append(keys[n])

        threads = [threading.Thread(target=sender, args=(s,)) for s in range(SENDERS)]
        for thread in threads:
            thread.start()
        while len(tally.acknowledged) < EVENTS // 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        own_postgres.stop()
        outage_started.set()
        time.sleep(OUTAGE_SECONDS)
        own_postgres.start()
        back = time.monotonic()
        recovery = first_ready_after(receiver, back, back + 60)
        for thread in threads:
            thread.join()
        with psycopg.connect(own_postgres.url, autocommit=True) as conn:
            while time.monotonic() < deadline:
                (pending,) = conn.execute(
                    "SELECT count(*) FROM intake_events WHERE status <> 'done'"
                ).fetchone()
                if pending == 0:
                    break
                time.sleep(0.2)
            stored = conn.execute("SELECT object_key FROM intake_events").fetchall()
            rows = conn.execute(
                "SELECT object_key, count(*) FROM ingestion_events GROUP BY object_key"
            ).fetchall()
    print(f"recovery {recovery} s; statuses {tally.statuses}")
    assert recovery is not None
    assert recovery < RECOVERY_BUDGET_SECONDS
    assert sorted(tally.acknowledged) == keys  # every sender got its 2xx
    assert tally.statuses.get(503, 0) > 0  # the outage was seen
    assert sorted(key for (key,) in stored) == keys  # 0 lost, 0 doubled at intake
    assert dict(rows) == dict.fromkeys(keys, 1)  # one audit row per event
