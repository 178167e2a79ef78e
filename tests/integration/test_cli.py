"""The ``notifier`` command as users run it: real processes, real servers."""

from __future__ import annotations

import gzip
import io
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from notifier.cli.exits import EXIT_CONFIG, EXIT_UNAVAILABLE, EXIT_USAGE
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


def test_missing_settings_are_all_named_with_the_configuration_status():
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFIER_")}
    done = subprocess.run(
        [sys.executable, "-m", "notifier", "worker"], env=env, capture_output=True, text=True
    )
    assert done.returncode == EXIT_CONFIG
    for name in (
        "NOTIFIER_DATABASE_URL",
        "NOTIFIER_S3_ENDPOINT",
        "NOTIFIER_S3_ACCESS_KEY",
        "NOTIFIER_S3_SECRET_KEY",
    ):
        assert name in done.stderr
    # A worker never authenticates a webhook: the token is not asked for.
    assert "NOTIFIER_AUTH_TOKEN" not in done.stderr
    assert "Traceback" not in done.stderr


def test_backfill_commands_need_no_webhook_token(settings, buckets, s3_client):
    s3_client.put_object(buckets.raw, "a.csv", io.BytesIO(b"a\n1\n"), 4)
    env = env_for(settings, buckets)
    del env["NOTIFIER_AUTH_TOKEN"]
    done = subprocess.run(
        [sys.executable, "-m", "notifier", "rescan", "--dry-run"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "1 object(s) would be recorded" in done.stdout


def test_a_busy_port_is_one_line_naming_the_option(settings, buckets):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        server = notifier("serve", "--port", str(port), env=env_for(settings, buckets))
        _, stderr = server.communicate(timeout=30)
    assert server.returncode == EXIT_USAGE
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines == [
        f"Error: port {port} on 127.0.0.1 is already in use: choose another with --port"
    ]


def test_json_logs_are_one_object_per_line(settings, buckets):
    port = free_port()
    server = notifier(
        "serve",
        "--port",
        str(port),
        env=env_for(settings, buckets, NOTIFIER_LOG_FORMAT="json", NOTIFIER_LOG_LEVEL="DEBUG"),
    )
    try:
        wait_for(lambda: _get(f"http://127.0.0.1:{port}/healthz") == 200, "serve to listen")
    finally:
        server.send_signal(signal.SIGTERM)
        _, stderr = server.communicate(timeout=30)
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines
    parsed = [json.loads(line) for line in lines]
    assert any(entry["message"].startswith("notifier listening on") for entry in parsed)
    assert all({"time", "level", "logger", "message"} <= entry.keys() for entry in parsed)


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


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFIER_")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    return env


def _exports(text: str) -> dict[str, str]:
    found = {}
    for line in text.splitlines():
        words = shlex.split(line)
        assert words[0] == "export", line
        name, _, value = words[1].partition("=")
        found[name] = value
    return found


def _processes_under(folder: Path) -> list[int]:
    """Processes whose command line names ``folder`` (the dev stack's servers)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().decode().split("\0")
        except OSError:
            continue
        if Path(argv[0]).name in ("postgres", "weed") and any(str(folder) in a for a in argv):
            pids.append(int(entry.name))
    return pids


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")


def test_dev_stack_newcomer_path_and_hangup_stops_every_server(tmp_path):
    """`notifier dev`, then `notifier dev env` in another shell, then any command."""
    home = tmp_path / "dev home"
    servers: list[int] = []
    port = free_port()
    args = ["--home", str(home), "--port", str(port)]
    args += ["--pg-port", str(free_port()), "--s3-port", str(free_port())]
    viewer = "viewer-token-of-the-dev-stack"  # an optional setting the stack must honour
    stack = notifier(
        "dev",
        *args,
        env={**_clean_env(), "NOTIFIER_DASHBOARD_TOKEN": viewer},
        start_new_session=True,
    )
    try:
        wait_for(
            lambda: (home / "notifier.env").exists() or stack.poll() is not None,
            "the dev stack to start",
            timeout=120,
        )
        assert stack.poll() is None, stack.communicate()[1]
        shown = subprocess.run(
            [sys.executable, "-m", "notifier", "dev", "env", "--home", str(home)],
            env=_clean_env(),
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert shown.returncode == 0, shown.stderr
        exported = _exports(shown.stdout)
        assert set(exported) >= {
            "NOTIFIER_DATABASE_URL",
            "NOTIFIER_S3_ENDPOINT",
            "NOTIFIER_S3_ACCESS_KEY",
            "NOTIFIER_S3_SECRET_KEY",
        }
        assert not any(value.startswith("-") for value in exported.values())
        rescan = subprocess.run(
            [sys.executable, "-m", "notifier", "rescan", "--dry-run"],
            env={**_clean_env(), **exported},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert rescan.returncode == 0, rescan.stderr
        last_run = subprocess.run(
            [sys.executable, "-m", "notifier", "report", "last-run"],
            env={**_clean_env(), **exported},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert last_run.returncode == 0, last_run.stderr
        assert "ingestion" in last_run.stdout
        dashboard = urllib.request.Request(
            f"http://127.0.0.1:{port}/dashboard/", headers={"Authorization": f"Bearer {viewer}"}
        )
        with urllib.request.urlopen(dashboard, timeout=30) as answer:
            assert answer.status == 200
        servers = _processes_under(home)
        assert len(servers) >= 2, servers  # the postmaster and weed, at least
        stack.send_signal(signal.SIGHUP)  # what a closed terminal sends
        stack.wait(timeout=60)
    finally:
        if stack.poll() is None:
            os.killpg(stack.pid, signal.SIGKILL)
        stack.communicate()
        leftovers = _reap(home)
    assert servers
    assert leftovers == [], "servers outlived the dev command"
    assert not (home / "notifier.env").exists()


def _reap(home: Path, grace: float = 30.0) -> list[int]:
    """Wait for the dev servers under ``home`` to exit; kill and return those that don't."""
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        alive = [pid for pid in _processes_under(home) if not _gone(pid)]
        if not alive:
            return []
        time.sleep(0.1)
    for pid in alive:
        os.kill(pid, signal.SIGKILL)
    return alive


def test_dev_env_without_a_running_stack_says_how_to_start_one(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "notifier", "dev", "env", "--home", str(tmp_path)],
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == EXIT_UNAVAILABLE
    assert "make run" in done.stderr
    assert done.stdout == ""


def test_dev_env_takes_home_before_or_after_env(tmp_path):
    (tmp_path / "notifier.env").write_text("export NOTIFIER_S3_ACCESS_KEY=notifier\n")
    for args in (["dev", "--home", str(tmp_path), "env"], ["dev", "env", "--home", str(tmp_path)]):
        done = subprocess.run(
            [sys.executable, "-m", "notifier", *args],
            env=_clean_env(),
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert (done.returncode, done.stdout) == (0, "export NOTIFIER_S3_ACCESS_KEY=notifier\n")


def test_dev_on_a_busy_port_is_one_line(tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "notifier", "dev", "--home", str(tmp_path), "--port", str(port)],
            env=_clean_env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == EXIT_USAGE
    assert [line for line in done.stderr.splitlines() if line.strip()] == [
        f"Error: port {port} on 127.0.0.1 is already in use: choose another with --port"
    ]
