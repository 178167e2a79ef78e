"""Rescan throughput against the bare listing rate of the same server, in the same run.

Fills one bucket of a private SeaweedFS with N small CSV objects, then measures:
  1. baseline: iterating the bucket listing and nothing else;
  2. rescan enqueue: listing + checking each object against the audit + storing events;
  3. rescan end to end: enqueue + inspecting every object + writing its row.
Peak RSS is printed so memory staying flat with N can be checked across runs.

    .venv/bin/python bench/bench_rescan.py [--objects 20000] [--concurrency 4]
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import harness
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from notifier.backfill.rescan import Rescanner, RescanTally, process_backlog
from notifier.config import Settings
from notifier.db import create_pool, upgrade
from notifier.devstack.servers import LocalPostgres, LocalSeaweedFS, free_port
from notifier.processing import Processor
from notifier.storage import ObjectStore, make_client

BUCKET = "raw"
BODY = b'id,comment\n1,"a, b"\n2,"two\nlines"\n3,x\n'


def fill(client, count: int) -> None:
    def put(i: int) -> None:
        client.put_object(BUCKET, f"bench/{i // 1000:03d}/{i:07d}.csv", io.BytesIO(BODY), len(BODY))

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(put, range(count)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--objects", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        postgres = LocalPostgres(Path(tmp) / "pg", free_port(), ephemeral=True)
        seaweed = LocalSeaweedFS(Path(tmp) / "s3", free_port(), "bench", "bench-secret")
        with postgres, seaweed:
            with psycopg.connect(postgres.url, autocommit=True) as conn:
                upgrade(conn)
            client = seaweed.client()
            client.make_bucket(BUCKET)
            started = time.perf_counter()
            fill(client, args.objects)
            print(f"uploaded {args.objects} objects in {time.perf_counter() - started:.1f} s")
            settings = Settings.from_env(
                {
                    "NOTIFIER_DATABASE_URL": postgres.url,
                    "NOTIFIER_S3_ENDPOINT": seaweed.endpoint,
                    "NOTIFIER_S3_ACCESS_KEY": "bench",
                    "NOTIFIER_S3_SECRET_KEY": "bench-secret",
                    "NOTIFIER_AUTH_TOKEN": "unused",
                    "NOTIFIER_BUCKET_MAP": f"{BUCKET}=ingestion",
                }
            )
            store = ObjectStore(make_client(settings.s3))
            rss_before = harness.peak_rss_mib()

            started = time.perf_counter()
            listed = sum(1 for _ in store.list(BUCKET))
            listing_seconds = time.perf_counter() - started

            pool = create_pool(settings.database_url, args.concurrency + 2, open_now=True)
            try:
                rescanner = Rescanner(pool, store, settings.phase_of)
                tally = RescanTally()
                started = time.perf_counter()
                rescanner.enqueue(BUCKET, prefix=None, since=None, dry_run=False, tally=tally)
                enqueue_seconds = time.perf_counter() - started
                process_backlog(Processor(settings, pool, store), args.concurrency)
                total_seconds = time.perf_counter() - started
                summary = rescanner.summarize(tally)
            finally:
                pool.close()

    rate = {
        "listing": listed / listing_seconds,
        "enqueue": tally.listed / enqueue_seconds,
        "end to end": tally.listed / total_seconds,
    }
    print(f"objects: {listed} listed, {summary.new} new, {summary.ok} ok, {summary.errors} errors")
    for name, value in rate.items():
        ratio = value / rate["listing"]
        print(f"{name:>11}: {value:9.0f} objects/s   ratio to bare listing: {ratio:5.2f}")
    print(
        f"peak RSS: {rss_before:.0f} MiB before the rescan, {harness.peak_rss_mib():.0f} MiB after"
    )


if __name__ == "__main__":
    main()
