"""Secrets stay out of every log line (issue 13, item 8), access logs included.

Real servers, real logs: gunicorn with the shipped configuration and `notifier serve`
receive the token in a query string, as the HTTP Basic user name and password and as a
Bearer token; no line of what they print may hold it.
"""

from __future__ import annotations

import base64
import subprocess
import time
from pathlib import Path

from notifier.devstack.servers import free_port
from tests.conftest import TOKEN
from tests.processes import BIN, Receiver, gunicorn, settings_env, stop, wait_healthy
from tests.support import minio_body, minio_record


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def send_token_every_way(receiver: Receiver, bucket: str) -> list[int]:
    body = minio_body(minio_record(bucket, "secret-test.csv", size=3))
    sent = [
        ("POST", f"/events?token={TOKEN}", {"Authorization": f"Bearer {TOKEN}"}),
        ("POST", f"/events?auth_token={TOKEN}&x=1", {}),
        ("GET", f"/healthz?token={TOKEN}", {}),
        ("POST", "/events", {"Authorization": basic(TOKEN, "")}),
        ("POST", "/events", {"Authorization": basic(TOKEN, TOKEN)}),
        ("POST", "/events", {"Authorization": basic("notifier", TOKEN)}),
        ("POST", "/events", {"Authorization": f"Bearer {TOKEN}x"}),
        ("POST", f"/nowhere/{TOKEN[:4]}?{TOKEN}", {"Referer": f"http://x/?t={TOKEN}"}),
    ]
    return [receiver.request(m, p, body, h)[0] for m, p, h in sent]


def assert_no_secret(log: Path) -> None:
    lines = log.read_text(errors="replace").splitlines()
    assert any("/events" in line for line in lines), "the access log is missing"
    leaked = [line for line in lines if TOKEN in line]
    assert not leaked, leaked


def test_gunicorn_logs_hold_no_token(settings, buckets, tmp_path):
    env = settings_env(settings, NOTIFIER_LOG_LEVEL="DEBUG")
    with gunicorn(env, tmp_path, "--workers=1") as receiver:
        statuses = send_token_every_way(receiver, buckets.raw)
    assert statuses == [200, 401, 200, 401, 200, 200, 401, 404]
    assert_no_secret(receiver.log)
    assert '"POST /events HTTP/1.1" 200' in receiver.log.read_text()


def test_notifier_serve_logs_hold_no_token(settings, buckets, tmp_path):
    port = free_port()
    log = tmp_path / "serve.log"
    env = settings_env(settings, NOTIFIER_LOG_LEVEL="DEBUG")
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(BIN / "notifier"), "serve", "--no-workers", f"--port={port}"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_healthy(port, process, log)
        statuses = send_token_every_way(Receiver(port, process, log), buckets.raw)
        # werkzeug writes the access-log line after the response: wait for the last one.
        deadline = time.monotonic() + 10
        while "/nowhere/" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop(process)
    assert statuses == [200, 401, 200, 401, 200, 200, 401, 404]
    assert_no_secret(log)
