"""Rescan against the bare listing rate of the same server, in the same run.

One durable PostgreSQL (fsync on) and one SeaweedFS; one bucket of N small CSV objects.
For each checkout given by ``--code DIR`` (default: the baseline, main when the
speed issue was filed, then this one), in a fresh process with
that checkout's code and an emptied database:
  1. baseline: iterating the bucket listing and nothing else;
  2. enqueue, everything new: listing + checking each object against the audit + storing
     an event for each;
  3. enqueue, nothing new: the same again (every object already has its event);
  4. end to end, everything new: enqueue + inspecting every object + writing its row
     (``notifier rescan``'s path: Rescanner.enqueue then process_backlog, in
     ``--processes`` processes where the checkout's process_backlog can).
Printed: objects/s, the ratio to the listing and, for end to end, to the first checkout;
database round trips and S3 requests per object (counted in the client).

    .venv/bin/python bench/bench_rescan.py [--objects 5000] [--concurrency 4] [--processes 2] \
        [--code /work/wt/perf-base --code .]
"""

from __future__ import annotations

import argparse
import inspect
import io
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
import stack

BUCKET = "raw"
BODY = b'id,comment\n1,"a, b"\n2,"two\nlines"\n3,x\n'
SCRIPT = str(Path(__file__).resolve())


def fill(client: Any, count: int) -> None:
    client.make_bucket(BUCKET)

    def put(i: int) -> None:
        key = f"bench/{i // 1000:03d}/{i:07d}.csv"
        client.put_object(BUCKET, key, io.BytesIO(BODY), len(BODY))

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(put, range(count)))


def reset(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE ingestion_events, intake_events CASCADE")


def child(concurrency: int, processes: int) -> None:
    """In a process running the checkout under test."""
    stack.count_round_trips()
    from notifier.config import Settings
    from notifier.db import create_pool
    from notifier.processing import Processor

    try:
        from notifier.backfill.rescan import Rescanner, RescanTally, process_backlog
    except ModuleNotFoundError:  # the baseline (f90e62c) had a flat notifier/rescan.py
        from notifier.rescan import (  # type: ignore[no-redef]
            Rescanner,
            RescanTally,
            process_backlog,
        )
    from notifier.storage import ObjectStore, make_client

    settings = Settings.from_env()
    client = make_client(settings.s3)
    stack.count_s3_requests(client)
    store = ObjectStore(client)
    pool = create_pool(settings.database_url, concurrency + 2, open_now=True)
    rescanner = Rescanner(pool, store, settings.phase_of)
    stack.wait_for_go()
    result: dict[str, Any] = {}

    def measure(name: str, work: Any) -> None:
        trips, requests = stack.COUNTS["round_trips"], stack.COUNTS["s3_requests"]
        started = time.perf_counter()
        objects = work()
        result[name] = {
            "rate": objects / (time.perf_counter() - started),
            "round_trips": (stack.COUNTS["round_trips"] - trips) / objects,
            "s3": (stack.COUNTS["s3_requests"] - requests) / objects,
        }

    def listing() -> int:
        return sum(1 for _ in store.list(BUCKET))

    def enqueue() -> int:
        tally = RescanTally()
        rescanner.enqueue(BUCKET, prefix=None, since=None, dry_run=False, tally=tally)
        return tally.listed

    # Checkouts whose rescan can inspect in several processes use them (--processes).
    supports_processes = "processes" in inspect.signature(process_backlog).parameters
    spread = {"processes": processes} if supports_processes else {}
    result["processes"] = processes if supports_processes else 1

    def end_to_end() -> int:
        listed = enqueue()
        process_backlog(Processor(settings, pool, store), concurrency, **spread)
        return listed

    def truncate() -> None:
        with pool.connection() as conn:
            conn.execute("TRUNCATE ingestion_events, intake_events CASCADE")

    listing()  # warm the server's caches and minio's region lookup
    measure("listing", listing)
    if os.environ.get("BENCH_PROFILE"):
        import cProfile

        cProfile.runctx("enqueue()", globals(), locals(), os.environ["BENCH_PROFILE"])
        truncate()
    measure("enqueue, all new", enqueue)
    measure("enqueue, none new", enqueue)
    truncate()
    measure("end to end, all new", end_to_end)
    with pool.connection() as conn:
        row = conn.execute(
            "SELECT count(*), count(DISTINCT intake_event_id),"
            " count(*) FILTER (WHERE estado = 'ok') FROM ingestion_events"
        ).fetchone()
    pool.close()
    result["rows"] = list(row) if row else []
    print(json.dumps(result))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(int(sys.argv[2]), int(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=4, help="threads per process")
    parser.add_argument("--processes", type=int, default=2, help="where the checkout can")
    parser.add_argument("--code", action="append", help="a checkout (repeatable)")
    args = parser.parse_args()
    results = []
    with (
        stack.checkouts(args.code) as specs,
        tempfile.TemporaryDirectory(prefix="bench-rescan-") as tmp,
        stack.servers(Path(tmp)) as servers,
    ):
        started = time.perf_counter()
        fill(servers.seaweed.client(), args.objects)
        print(
            f"uploaded {args.objects} objects in {time.perf_counter() - started:.1f} s;"
            f" {stack.machine()}"
        )
        for code in map(Path, specs):
            reset(servers.postgres.url)
            process = stack.run_child(
                code,
                SCRIPT,
                [str(args.concurrency), str(args.processes)],
                servers.env(f"{BUCKET}=ingestion"),
            )
            stack.child_ready(process)
            stack.child_go(process)
            results.append((code, stack.child_result(process)))
    first_end_to_end = results[0][1]["end to end, all new"]["rate"]
    for code, result in results:
        exact = result["rows"] == [args.objects] * 3
        print(
            f"\n{code.name}: {args.objects} objects, {result['processes']} process(es) x"
            f" {args.concurrency} threads,"
            f" one ok row per object: {'yes' if exact else 'NO ' + str(result['rows'])}"
        )
        print(
            f"  {'':22} {'objects/s':>10} {'x listing':>10} {'x first':>8}"
            f" {'db trips/obj':>12} {'S3 req/obj':>10}"
        )
        listing = result["listing"]["rate"]
        for name in ("listing", "enqueue, all new", "enqueue, none new", "end to end, all new"):
            figures = result[name]
            versus_first = (
                f"{figures['rate'] / first_end_to_end:8.2f}" if name.startswith("end") else ""
            )
            counted = (
                f"{figures['round_trips']:12.3f} {figures['s3']:10.3f}"
                if result["processes"] == 1 or not name.startswith("end")
                else f"{'(in children)':>23}"  # counted in this process only: not shown
            )
            print(
                f"  {name:22} {figures['rate']:10.0f} {figures['rate'] / listing:10.2f}"
                f" {versus_first:>8} {counted}"
            )


if __name__ == "__main__":
    main()
