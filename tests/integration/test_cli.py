"""The ``notifier`` command as users run it: real processes, real servers."""

from __future__ import annotations

import gzip
import io
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from notifier.devstack.servers import free_port
from tests.conftest import S3_ACCESS_KEY, S3_SECRET_KEY, TOKEN, _with_dbname
from tests.support import minio_body, record_for_stat

DEADLINE_SECONDS = 30.0


def env_for(settings, buckets, **extra) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFIER_")}
    env.update(
        NOTIFIER_DATABASE_URL=settings.database_url,
        NOTIFIER_S3_ENDPOINT=settings.s3.endpoint,
        NOTIFIER_S3_ACCESS_KEY=S3_ACCESS_KEY,
        NOTIFIER_S3_SECRET_KEY=S3_SECRET_KEY,
        NOTIFIER_AUTH_TOKEN=TOKEN,
        NOTIFIER_BUCKET_MAP=buckets.map_text(),
    )
    env.update(extra)
    return env


def notifier(*args: str, env: dict[str, str], **kw) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "notifier", *args],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **kw,
    )


def wait_for(predicate, what: str, timeout: float = DEADLINE_SECONDS):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def test_missing_setting_is_named_and_exits_nonzero():
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFIER_")}
    done = subprocess.run(
        [sys.executable, "-m", "notifier", "worker"], env=env, capture_output=True, text=True
    )
    assert done.returncode != 0
    assert "NOTIFIER_AUTH_TOKEN" in done.stderr or "NOTIFIER_DATABASE_URL" in done.stderr


def test_db_upgrade_command(pg_admin_url, settings, buckets):
    name = f"cli_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    env = env_for(settings, buckets, NOTIFIER_DATABASE_URL=_with_dbname(pg_admin_url, name))
    first = subprocess.run(
        [sys.executable, "-m", "notifier", "db", "upgrade"], env=env, capture_output=True, text=True
    )
    assert first.returncode == 0, first.stderr
    assert "applied: 001_initial" in first.stdout
    second = subprocess.run(
        [sys.executable, "-m", "notifier", "db", "upgrade"], env=env, capture_output=True, text=True
    )
    assert second.stdout.strip() == "schema is up to date"
    assert settings.s3.secret_key not in first.stderr + second.stderr


def test_serve_receives_and_audits_end_to_end(settings, buckets, s3_client, db):
    port = free_port()
    server = notifier("serve", "--port", str(port), env=env_for(settings, buckets))
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: _get(f"{base}/healthz") == 200, "serve to listen")
        data = b"a,b\n1,2\n3,4\n"
        s3_client.put_object(buckets.raw, "live/one file.csv", io.BytesIO(data), len(data))
        body = minio_body(record_for_stat(s3_client, buckets.raw, "live/one file.csv"))
        request = urllib.request.Request(
            f"{base}/events",
            data=body,
            method="POST",
            headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
        row = wait_for(
            lambda: db.execute("SELECT num_registros, estado FROM ingestion_events").fetchone(),
            "the audit row",
        )
        assert row == (2, "ok")
    finally:
        server.send_signal(signal.SIGTERM)
        _, stderr = server.communicate(timeout=30)
    assert server.returncode == 0, stderr
    assert TOKEN not in stderr
    assert settings.s3.secret_key not in stderr


def test_worker_killed_mid_event_loses_nothing(settings, buckets, s3_client, db, processor):
    # Big enough (and gzipped) that inspection takes a while, so the kill lands mid-event.
    rows = 6_000_000
    payload = gzip.compress(b"id,v\n" + b"1,abcdefgh\n" * rows, compresslevel=1)
    s3_client.put_object(buckets.raw, "huge.csv.gz", io.BytesIO(payload), len(payload))
    worker = notifier("worker", "--threads", "1", env=env_for(settings, buckets))
    try:
        body = minio_body(record_for_stat(s3_client, buckets.raw, "huge.csv.gz"))
        with psycopg.connect(settings.database_url, autocommit=True) as conn:
            _post_via_app(settings, buckets, body)
            wait_for(
                lambda: conn.execute(
                    "SELECT status FROM intake_events WHERE status = 'processing'"
                ).fetchone(),
                "the worker to claim the event",
            )
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
        worker.communicate()
    assert db.execute("SELECT count(*) FROM ingestion_events").fetchone()[0] == 0
    # Let the dead worker's lease run out instead of waiting for it.
    db.execute("UPDATE intake_events SET next_attempt_at = now() WHERE status = 'processing'")
    assert processor.drain() == 1
    assert db.execute("SELECT num_registros, estado FROM ingestion_events").fetchall() == [
        (rows, "ok")
    ]
    assert db.execute("SELECT status, attempts FROM intake_events").fetchone() == ("done", 2)


def _post_via_app(settings, buckets, body: bytes) -> None:
    from notifier.db import create_pool
    from notifier.web import create_app

    pool = create_pool(settings.database_url, 1, open_now=True)
    try:
        client = create_app(settings, pool).test_client()
        response = client.post("/events", data=body, headers={"Authorization": f"Bearer {TOKEN}"})
        assert response.status_code == 200
    finally:
        pool.close()


def _get(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return int(response.status)
    except OSError:
        return None


@pytest.fixture(autouse=True)
def _repo_on_path(monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).resolve().parents[2]))
