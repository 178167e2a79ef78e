"""Events per second acknowledged by the receiver, against a do-nothing WSGI baseline.

Both run under the same gunicorn configuration and take the same MinIO-shaped bodies
from the same client (N keep-alive connections in threads), in the same run. notifier
commits every event to a private PostgreSQL before answering; the baseline does not.

    .venv/bin/python bench/bench_receiver.py [--events 5000] [--connections 8]
"""

from __future__ import annotations

import argparse
import http.client
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from notifier.db import upgrade
from notifier.devstack.servers import LocalPostgres, free_port
from tests.support import minio_body, minio_record

TOKEN = "bench-token"


def start_gunicorn(app: str, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "2",
        "--threads",
        "4",
        "--worker-class",
        "gthread",
        "--log-level",
        "warning",
        app,
    ]
    return subprocess.Popen(command, env=env, cwd=Path(__file__).resolve().parent.parent)


def wait_until_up(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("HEAD", "/events")
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"server on {port} did not come up")


def blast(port: int, bodies: list[bytes], connections: int) -> float:
    chunks = [bodies[i::connections] for i in range(connections)]
    failures: list[str] = []

    def send(chunk: list[bytes]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
        for body in chunk:
            conn.request("POST", "/events", body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                failures.append(str(response.status))
        conn.close()

    threads = [threading.Thread(target=send, args=(c,)) for c in chunks]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise SystemExit(f"{len(failures)} requests failed, e.g. {failures[:3]}")
    return len(bodies) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    bodies = [
        minio_body(minio_record("raw", f"bench/{i:07d} file.csv", size=1024, etag=f"{i:032x}"))
        for i in range(args.events)
    ]
    with tempfile.TemporaryDirectory() as tmp:
        postgres = LocalPostgres(data_dir=Path(tmp) / "pg", port=free_port(), ephemeral=True)
        postgres.start()
        try:
            with psycopg.connect(postgres.url, autocommit=True) as conn:
                upgrade(conn)
            env = {
                **os.environ,
                "NOTIFIER_DATABASE_URL": postgres.url,
                "NOTIFIER_S3_ENDPOINT": "http://127.0.0.1:9",
                "NOTIFIER_S3_ACCESS_KEY": "unused",
                "NOTIFIER_S3_SECRET_KEY": "unused",
                "NOTIFIER_AUTH_TOKEN": TOKEN,
                "NOTIFIER_LOG_LEVEL": "WARNING",
            }
            rates = {}
            for name, app in (
                ("baseline", "bench.baseline_wsgi:app"),
                ("notifier", "notifier.wsgi:app"),
            ):
                port = free_port()
                server = start_gunicorn(app, port, env)
                try:
                    wait_until_up(port)
                    blast(port, bodies[:200], args.connections)  # warm-up, not counted
                    rates[name] = blast(port, bodies[200:], args.connections)
                finally:
                    server.terminate()
                    server.wait(timeout=30)
            with psycopg.connect(postgres.url) as conn:
                stored = conn.execute("SELECT count(*) FROM intake_events").fetchone()
        finally:
            postgres.stop()
    measured = args.events - 200
    print(f"events per request: 1, connections: {args.connections}, measured events: {measured}")
    print(f"baseline (200, stores nothing): {rates['baseline']:8.0f} events/s")
    print(f"notifier (committed to PG):     {rates['notifier']:8.0f} events/s")
    print(f"ratio notifier/baseline:        {rates['notifier'] / rates['baseline']:8.2f}")
    print(f"rows stored: {stored[0] if stored else 0} (expected {args.events})")


if __name__ == "__main__":
    main()
