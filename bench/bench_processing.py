"""Processing of small objects, event to committed row, against a bare claim-and-mark loop.

One run, one durable PostgreSQL (fsync on), one SeaweedFS: N small CSV objects (1-10 KB)
are uploaded and their events stored, then
  1. baseline: a bare ``FOR UPDATE SKIP LOCKED`` loop on a copy of intake_events (same
     table shape, same rows): claim one event (UPDATE ... RETURNING, committed: the
     lease), then mark it done (committed), on one connection; no S3, no audit row;
  2. each checkout given by ``--code DIR[:PROCESSES[:THREADS]]`` (default: the baseline,
     main when the speed issue was filed, then this one; 2 processes of 2 threads)
     processes the same events from scratch with its own Processor and run_until_idle,
     in PROCESSES worker processes.
Printed per checkout: events/s, the ratio to the baseline and to the first checkout,
database round trips (counted in the client), commits (pg_stat_database), S3 requests
(counted in the client) and CPU time of the worker processes per event, and a check of
exactly one row per event.

    .venv/bin/python bench/bench_processing.py [--objects 3000] \
        [--code /work/wt/perf-base:2:2 --code .:2:2]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
import stack

BUCKET = "raw"
SCRIPT = str(Path(__file__).resolve())


def csv_body(rng: random.Random) -> bytes:
    """A CSV of 1-10 KB with a header, quoted fields and an embedded newline."""
    target = rng.randint(1024, 10 * 1024)
    lines = [b"id,name,amount,comment\n"]
    size, n = len(lines[0]), 0
    while size < target:
        n += 1
        line = f'{n},item {n},{rng.random() * 1000:.2f},"note, {n}"\n'.encode()
        if n % 50 == 0:
            line = f'{n},item {n},1.00,"two\nlines"\n'.encode()
        lines.append(line)
        size += len(line)
    return b"".join(lines)


def upload_and_enqueue(servers: stack.Servers, count: int, keys: int) -> None:
    from notifier.config import Settings
    from notifier.db import create_pool
    from notifier.intake.parse import parse_body
    from notifier.intake.store import store_events
    from tests.support import minio_record

    client = servers.seaweed.client()
    client.make_bucket(BUCKET)
    rng = random.Random(12)
    bodies = [csv_body(rng) for _ in range(count)]

    def put(i: int) -> tuple[str, int, str]:
        key = f"bench/{i % keys // 1000:03d}/part-{i % keys:06d}.csv"
        result = client.put_object(BUCKET, key, io.BytesIO(bodies[i]), len(bodies[i]))
        return key, len(bodies[i]), result.etag

    with ThreadPoolExecutor(16) as pool:
        uploaded = list(pool.map(put, range(count)))
    settings = Settings.from_env(servers.env(f"{BUCKET}=ingestion"))
    pool = create_pool(settings.database_url, 1, open_now=True)
    try:
        for start in range(0, count, 500):
            records = [
                minio_record(BUCKET, key, size=size, etag=etag)
                for key, size, etag in uploaded[start : start + 500]
            ]
            parsed = parse_body(json.dumps({"Records": records}).encode())
            store_events(pool, parsed.events, settings.phase_of)
    finally:
        pool.close()
    with psycopg.connect(servers.postgres.url, autocommit=True) as conn:
        conn.execute("CREATE TABLE bench_template AS TABLE intake_events")
        conn.execute("CREATE TABLE bare_events (LIKE intake_events INCLUDING ALL)")


def reset(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE ingestion_events, intake_events, bare_events CASCADE")
        conn.execute("INSERT INTO intake_events SELECT * FROM bench_template")
        conn.execute("INSERT INTO bare_events SELECT * FROM bench_template")
        conn.execute("VACUUM ANALYZE intake_events")
        conn.execute("VACUUM ANALYZE bare_events")


def bare_claim_and_mark(url: str) -> dict[str, Any]:
    claim = """
        UPDATE bare_events SET status = 'processing', attempts = attempts + 1,
               next_attempt_at = now() + interval '60 seconds'
        WHERE id = (SELECT id FROM bare_events
                    WHERE status IN ('pending', 'processing') AND next_attempt_at <= now()
                    ORDER BY next_attempt_at, id FOR UPDATE SKIP LOCKED LIMIT 1)
        RETURNING id, attempts"""
    mark = """UPDATE bare_events SET status = 'done', processed_at = now()
              WHERE id = %s AND attempts = %s AND status = 'processing'"""
    before = stack.database_counters(url)
    handled = 0
    with psycopg.connect(url, autocommit=True) as conn:
        started = time.perf_counter()
        while (row := conn.execute(claim).fetchone()) is not None:
            conn.execute(mark, row)
            handled += 1
        elapsed = time.perf_counter() - started
    stack.settle_stats()
    after = stack.database_counters(url)
    return {
        "events": handled,
        "rate": handled / elapsed,
        "round_trips": (handled * 2 + 1) / handled,
        "commits": (after["commits"] - before["commits"]) / handled,
        "s3": 0.0,
        "cpu_ms": 0.0,
    }


def run_checkout(servers: stack.Servers, spec: str, count: int, keys: int) -> dict[str, Any]:
    path, _, rest = spec.partition(":")
    processes, _, threads = rest.partition(":")
    code = Path(path).resolve()
    env = servers.env(f"{BUCKET}=ingestion")
    children = [
        stack.run_child(code, SCRIPT, [threads or "2"], env) for _ in range(int(processes or 2))
    ]
    for child in children:
        stack.child_ready(child)
    stack.settle_stats()
    before = stack.database_counters(servers.postgres.url)
    for child in children:
        stack.child_go(child)
    results = [stack.child_result(child) for child in children]
    stack.settle_stats()
    after = stack.database_counters(servers.postgres.url)
    with psycopg.connect(servers.postgres.url) as conn:
        rows, events, ok = conn.execute(
            "SELECT count(*), count(DISTINCT intake_event_id), count(*) FILTER"
            " (WHERE estado = 'ok') FROM ingestion_events"
        ).fetchone()
        done = conn.execute("SELECT count(*) FROM intake_events WHERE status = 'done'").fetchone()
    elapsed = max(r["ended"] for r in results) - min(r["started"] for r in results)
    return {
        "label": f"{code.name} ({len(children)} x {threads or 2} threads)",
        "events": sum(r["handled"] for r in results),
        "rate": count / elapsed,
        "round_trips": sum(r["round_trips"] for r in results) / count,
        "s3": sum(r["s3_requests"] for r in results) / count,
        "commits": (after["commits"] - before["commits"]) / count,
        "cpu_ms": sum(r["cpu"] for r in results) / count * 1000,
        "rows": rows,
        # Overwritten uploads (--keys below --objects) are 'skipped' rows; one per event.
        "exact": rows == events == count
        and (ok == count or keys < count)
        and done is not None
        and done[0] == count,
    }


def child(threads: int) -> None:
    """In a worker process of the checkout under test."""
    stack.count_round_trips()
    from notifier.config import Settings
    from notifier.db import create_pool
    from notifier.processing import Processor, run_until_idle
    from notifier.storage import ObjectStore, make_client

    settings = Settings.from_env()
    pool = create_pool(settings.database_url, threads + 2, open_now=True)
    client = make_client(settings.s3)
    stack.count_s3_requests(client)
    processor = Processor(settings, pool, ObjectStore(client))
    handled = 0
    lock = threading.Lock()

    def count() -> None:
        nonlocal handled
        with lock:
            handled += 1

    stack.COUNTS["round_trips"] = 0
    stack.wait_for_go()
    started = time.time()
    cpu_started = time.process_time()
    if os.environ.get("BENCH_PROFILE"):  # one thread, profiled in CPU time (not waits)
        import cProfile

        profile = cProfile.Profile(time.process_time)
        profile.runcall(run_until_idle, processor, count)
        profile.dump_stats(f"{os.environ['BENCH_PROFILE']}.{os.getpid()}")
        threads = 0
    workers = [
        threading.Thread(target=run_until_idle, args=(processor, count)) for _ in range(threads)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    ended = time.time()
    cpu = time.process_time() - cpu_started
    pool.close()
    print(
        json.dumps(
            {"started": started, "ended": ended, "handled": handled, "cpu": cpu, **stack.COUNTS}
        )
    )


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(int(sys.argv[2]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=3000)
    parser.add_argument(
        "--keys",
        type=int,
        default=None,
        help="upload the objects under this many keys (default: one key each); fewer"
        " keys give each key many versions, whose state every event derives again",
    )
    parser.add_argument("--code", action="append", help="DIR[:PROCESSES[:THREADS]] (repeatable)")
    args = parser.parse_args()
    with (
        stack.checkouts(args.code, ":2:2") as specs,
        tempfile.TemporaryDirectory(prefix="bench-processing-") as tmp,
        stack.servers(Path(tmp)) as servers,
    ):
        started = time.perf_counter()
        upload_and_enqueue(servers, args.objects, args.keys or args.objects)
        print(
            f"{args.objects} objects of 1-10 KB uploaded and their events stored"
            f" in {time.perf_counter() - started:.1f} s; {stack.machine()}"
        )
        reset(servers.postgres.url)
        bare = bare_claim_and_mark(servers.postgres.url)
        measured = []
        for spec in specs:
            reset(servers.postgres.url)
            measured.append(run_checkout(servers, spec, args.objects, args.keys or args.objects))
    print(
        f"{'':44} {'events/s':>9} {'x bare':>7} {'x first':>8}"
        f" {'db trips/ev':>11} {'commits/ev':>10} {'S3 req/ev':>9} {'CPU ms/ev':>9}"
        "  one row per event"
    )
    print(
        f"{'bare claim-and-mark (1 connection)':44} {bare['rate']:9.0f} {1:7.2f} {'':>8}"
        f" {bare['round_trips']:11.2f} {bare['commits']:10.2f} {bare['s3']:9.2f} {'':>9}"
    )
    for result in measured:
        print(
            f"{result['label']:44} {result['rate']:9.0f} {result['rate'] / bare['rate']:7.2f}"
            f" {result['rate'] / measured[0]['rate']:8.2f} {result['round_trips']:11.2f}"
            f" {result['commits']:10.2f} {result['s3']:9.2f} {result['cpu_ms']:9.2f}  "
            f"{'yes' if result['exact'] else 'NO: ' + str(result['rows']) + ' rows'}"
        )


if __name__ == "__main__":
    main()
