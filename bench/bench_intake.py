"""Intake under gunicorn, 16 concurrent keep-alive senders, against the same app with the
store stubbed, in the same run, on a durable PostgreSQL (fsync on).

For each checkout ``--code DIR[:GUNICORN_CONFIG]`` (default: the baseline, main
when the speed issue was filed, then this one; each with
notifier/web/gunicorn_conf.py, the shipped configuration, when present, else the old
manifest's flags ``--workers 2 --threads 4``), two gunicorn servers run the same checkout's
``notifier.wsgi:app`` one after the other: first with ``store_events`` stubbed (the
baseline: same Flask app, same parsing, no database), then as users run it. Two client
processes hold 8 keep-alive connections each and POST one-record MinIO bodies.
Printed: events/s, the ratio to the stubbed app, p50/p99 latency, database round trips
(counted in the workers) and commits (pg_stat_database) per event, CPU per request of
the gunicorn workers and of the two client processes (on 2 cores they share the CPU
with the server and PostgreSQL: p99 rises with the machine's load), how the requests
split between gunicorn's worker processes, and the wait function psycopg uses in them
(under gevent it must be a cooperative one, not ``wait_c``).

    .venv/bin/python bench/bench_intake.py [--events 6000] [--code /work/wt/perf-base --code .]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psycopg
import stack

SCRIPT = str(Path(__file__).resolve())
TOKEN = "bench-token"
CONNECTIONS = 16
CLIENT_PROCESSES = 2
WARM_UP = 300
KUBERNETES_FLAGS = ["--workers", "2", "--threads", "4"]
"""What k8s/base/receiver.yaml ran before this benchmark's checkout (gthread)."""


def client(port: int, start: int, count: int, connections: int) -> None:
    """In a client process: POST ``count`` distinct one-record bodies over ``connections``
    keep-alive connections; print latencies (seconds) and the wall time as JSON."""
    from tests.support import minio_body, minio_record

    bodies = [
        minio_body(minio_record("raw", f"bench/{i:08d} part.csv", size=2048, etag=f"{i:032x}"))
        for i in range(start, start + count)
    ]
    latencies: list[float] = []
    failures: list[int] = []
    lock = threading.Lock()

    def send(chunk: list[bytes]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
        mine = []
        for body in chunk:
            began = time.perf_counter()
            conn.request("POST", "/events", body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            mine.append(time.perf_counter() - began)
            if response.status != 200:
                failures.append(response.status)
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [
        threading.Thread(target=send, args=(bodies[n::connections],)) for n in range(connections)
    ]
    stack.wait_for_go()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before = usage.ru_utime + usage.ru_stime
    started = time.time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ended = time.time()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(
        json.dumps(
            {
                "latencies": latencies,
                "started": started,
                "ended": ended,
                "failures": failures,
                "cpu_seconds": usage.ru_utime + usage.ru_stime - cpu_before,
            }
        )
    )


def start_gunicorn(
    code: Path, app: str, config: str | None, port: int, env: dict[str, str], counts: Path
) -> subprocess.Popen[bytes]:
    command = [
        stack.python_of(code),
        "-m",
        "gunicorn",
        "--bind",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        "-c",
        str(Path(__file__).with_name("gunicorn_counting.py")),
    ]
    if config is None:
        command += KUBERNETES_FLAGS
    command.append(app)
    return subprocess.Popen(
        command,
        env={
            **env,
            "PYTHONPATH": f"{code}{os.pathsep}{stack.ROOT / 'bench'}",
            "BENCH_GUNICORN_CONF": config or "",
            "BENCH_COUNTS_DIR": str(counts),
        },
        cwd=code,
    )


def wait_until_up(port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/healthz")
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"gunicorn on {port} did not come up")


def blast(code: Path, port: int, first: int, count: int, env: dict[str, str]) -> dict[str, Any]:
    per = count // CLIENT_PROCESSES
    clients = [
        stack.run_child(
            code,
            SCRIPT,
            [str(port), str(first + n * per), str(per), str(CONNECTIONS // CLIENT_PROCESSES)],
            env,
        )
        for n in range(CLIENT_PROCESSES)
    ]
    for process in clients:
        stack.child_ready(process)
    for process in clients:
        stack.child_go(process)
    results = [stack.child_result(process) for process in clients]
    failures = [f for r in results for f in r["failures"]]
    if failures:
        raise SystemExit(f"{len(failures)} requests failed, e.g. {failures[:5]}")
    latencies = sorted(x for r in results for x in r["latencies"])
    elapsed = max(r["ended"] for r in results) - min(r["started"] for r in results)
    return {
        "rate": len(latencies) / elapsed,
        "client_cpu_ms": sum(r["cpu_seconds"] for r in results) / len(latencies) * 1000,
        "p50": statistics.quantiles(latencies, n=100)[49] * 1000,
        "p99": statistics.quantiles(latencies, n=100)[98] * 1000,
    }


def run_app(
    code: Path, config: str | None, app: str, servers: stack.Servers, first: int, count: int
) -> dict[str, Any]:
    env = {**servers.env("raw=ingestion"), "NOTIFIER_AUTH_TOKEN": TOKEN}
    with tempfile.TemporaryDirectory(prefix="bench-counts-") as counts:
        port = stack_free_port()
        server = start_gunicorn(code, app, config, port, env, Path(counts))
        try:
            wait_until_up(port)
            blast(code, port, first, WARM_UP, env)
            stack.settle_stats()
            before = stack.database_counters(servers.postgres.url)
            for path in Path(counts).glob("*.json"):
                path.unlink()
            result = blast(code, port, first + WARM_UP, count, env)
            stack.settle_stats()
            after = stack.database_counters(servers.postgres.url)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)
        workers = [json.loads(p.read_text()) for p in Path(counts).glob("*.json")]
    requests = [w["requests"] for w in workers]
    events = sum(requests) or 1
    return {
        **result,
        # the warm-up's requests are counted by the workers too: per request, not per event
        "round_trips": sum(w["round_trips"] for w in workers) / events,
        "cpu_ms": sum(w.get("cpu_seconds", 0.0) for w in workers) / events * 1000,
        "commits": (after["commits"] - before["commits"]) / count,
        "split": requests,
        "wait": sorted({w.get("wait", "?") for w in workers}),
    }


def stack_free_port() -> int:
    from notifier.devstack.servers import free_port

    return free_port()


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        client(*(int(a) for a in sys.argv[2:6]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=6000)
    parser.add_argument("--code", action="append", help="DIR[:GUNICORN_CONFIG] (repeatable)")
    args = parser.parse_args()
    lines = []
    with (
        stack.checkouts(args.code) as specs,
        tempfile.TemporaryDirectory(prefix="bench-intake-") as tmp,
        stack.servers(Path(tmp), s3=False) as servers,
    ):
        print(
            f"{stack.machine()}; {CONNECTIONS} keep-alive connections from"
            f" {CLIENT_PROCESSES} client processes, {args.events} one-record POSTs per server"
        )
        first = 0
        for spec in specs:
            path, _, config = spec.partition(":")
            code = Path(path).resolve()
            if not config:
                default = code / "notifier" / "web" / "gunicorn_conf.py"
                config = str(default) if default.exists() else ""
            measured = {}
            for name, app in (
                ("stubbed store", "stubbed_receiver:app"),
                ("notifier", "notifier.wsgi:app"),
            ):
                measured[name] = run_app(code, config or None, app, servers, first, args.events)
                first += args.events + WARM_UP
            with psycopg.connect(servers.postgres.url) as conn:
                stored = conn.execute("SELECT count(*) FROM intake_events").fetchone()
            label = f"{code.name} ({Path(config).name if config else ' '.join(KUBERNETES_FLAGS)})"
            lines.append((label, measured, stored[0] if stored else 0))
            with psycopg.connect(servers.postgres.url, autocommit=True) as conn:
                conn.execute("TRUNCATE intake_events CASCADE")
    for label, measured, stored in lines:
        base = measured["stubbed store"]["rate"]
        print(f"\n{label}: {stored} events stored (expected {args.events + WARM_UP})")
        print(
            f"  {'':14} {'events/s':>9} {'x stubbed':>9} {'p50 ms':>7} {'p99 ms':>7}"
            f" {'db trips/req':>12} {'commits/ev':>10} {'CPU ms/req':>10} {'client CPU':>10}"
            "  requests per worker"
        )
        for name, m in measured.items():
            print(
                f"  {name:14} {m['rate']:9.0f} {m['rate'] / base:9.2f} {m['p50']:7.1f}"
                f" {m['p99']:7.1f} {m['round_trips']:12.2f} {m['commits']:10.2f}"
                f" {m['cpu_ms']:10.2f} {m['client_cpu_ms']:10.2f}  {m['split']}"
            )
        print(
            "  CPU ms/req: gunicorn workers (warm-up included); client CPU: the two client"
            f" processes; psycopg waits with {', '.join(measured['notifier']['wait'])}"
        )


if __name__ == "__main__":
    main()
