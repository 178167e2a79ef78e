"""Shared by the service benchmarks: a durable PostgreSQL, a SeaweedFS S3, the code under
test, and counters of database round trips and S3 requests.

PostgreSQL runs as users run it: ``fsync`` and ``synchronous_commit`` on (LocalPostgres
without ``ephemeral``), with ``pg_stat_statements`` loaded. The code under test is a
checkout given by ``--code`` (default: the baseline
then this one, ``checkouts``), run with that checkout's own venv, so
a benchmark can measure the main branch and this branch in the same session.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parent.parent
S3_KEY, S3_SECRET = "bench", "bench-secret-key"
DURABLE_OPTIONS = (
    "-c", "shared_preload_libraries=pg_stat_statements",
    "-c", "fsync=on",
    "-c", "synchronous_commit=on",
)  # fmt: skip
"""fsync and synchronous_commit on (PostgreSQL's defaults, said explicitly)."""


@dataclass
class Servers:
    postgres: Any
    seaweed: Any

    def env(self, bucket_map: str) -> dict[str, str]:
        """The NOTIFIER_* environment of a notifier process against these servers."""
        return {
            **os.environ,
            "NOTIFIER_DATABASE_URL": self.postgres.url,
            "NOTIFIER_S3_ENDPOINT": self.seaweed.endpoint,
            "NOTIFIER_S3_ACCESS_KEY": S3_KEY,
            "NOTIFIER_S3_SECRET_KEY": S3_SECRET,
            "NOTIFIER_AUTH_TOKEN": "bench-token",
            "NOTIFIER_BUCKET_MAP": bucket_map,
            "NOTIFIER_LOG_LEVEL": "WARNING",
        }


@contextmanager
def servers(tmp: Path, *, s3: bool = True) -> Iterator[Servers]:
    # This checkout's devstack starts the servers, whatever code is under test.
    from notifier.db import upgrade
    from notifier.devstack.servers import LocalPostgres, LocalSeaweedFS, free_port

    class DurablePostgres(LocalPostgres):
        def _server_options(self) -> list[str]:
            return [*super()._server_options(), *DURABLE_OPTIONS]

    postgres = DurablePostgres(tmp / "pg", free_port())
    seaweed = LocalSeaweedFS(tmp / "s3", free_port(), S3_KEY, S3_SECRET)
    postgres.start()
    try:
        with psycopg.connect(postgres.url, autocommit=True) as conn:
            settings = dict(conn.execute("SELECT name, setting FROM pg_settings").fetchall())
            assert settings["fsync"] == "on"
            assert settings["synchronous_commit"] == "on"
            upgrade(conn)
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        if s3:
            with seaweed:
                yield Servers(postgres, seaweed)
        else:
            yield Servers(postgres, seaweed)
    finally:
        postgres.stop()


@contextmanager
def checkouts(given: Sequence[str] | None, suffix: str = "") -> Iterator[list[str]]:
    """The ``--code`` specs to measure: those given, else the baseline (``git archive``
    of ``harness.BASELINE_REF``, main when the speed issue was filed) then this checkout,
    each with ``suffix`` (e.g. ``":2:2"``): "x today" in every report is against the
    baseline."""
    if given:
        yield list(given)
        return
    import harness

    with tempfile.TemporaryDirectory(prefix="bench-baseline-") as tmp:
        baseline = Path(tmp) / f"baseline-{harness.export_ref(harness.BASELINE_REF, Path(tmp))}"
        baseline.mkdir()
        (Path(tmp) / "notifier").rename(baseline / "notifier")
        yield [f"{baseline}{suffix}", f"{ROOT}{suffix}"]


def python_of(code: Path) -> str:
    """The interpreter of a checkout's own venv (its editable install points at it)."""
    candidate = code / ".venv" / "bin" / "python"
    return str(candidate) if candidate.exists() else sys.executable


def database_counters(url: str) -> dict[str, int]:
    """Commits and statements so far (pg_stat_database, pg_stat_statements)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        commits = conn.execute(
            "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()
        calls = conn.execute("SELECT coalesce(sum(calls), 0) FROM pg_stat_statements").fetchone()
    assert commits is not None
    assert calls is not None
    return {"commits": int(commits[0]), "statements": int(calls[0])}


def settle_stats() -> None:
    """Statistics reach pg_stat_database when a backend goes idle (about a second)."""
    time.sleep(1.2)


# --- counting inside a process under test ------------------------------------------

COUNTS = {"round_trips": 0, "s3_requests": 0}


def count_round_trips() -> None:
    """Count every statement sent by psycopg in this process: executes, and the BEGIN /
    COMMIT / ROLLBACK a transaction block sends. Each is one round trip (no pipelines)."""
    from psycopg import Cursor
    from psycopg._connection_base import BaseConnection

    def counting(method: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            COUNTS["round_trips"] += 1
            return method(*args, **kwargs)

        return wrapper

    Cursor.execute = counting(Cursor.execute)  # type: ignore[method-assign]
    Cursor.executemany = counting(Cursor.executemany)  # type: ignore[method-assign]
    BaseConnection._exec_command = counting(BaseConnection._exec_command)  # type: ignore[method-assign]


def count_s3_requests(minio_client: Any) -> None:
    """Count every HTTP request the minio client sends (its urllib3 pool's urlopen)."""
    http = minio_client._http
    original = http.urlopen

    def urlopen(*args: Any, **kwargs: Any) -> Any:
        COUNTS["s3_requests"] += 1
        return original(*args, **kwargs)

    http.urlopen = urlopen


def run_child(
    code: Path, script: str, args: Sequence[str], env: dict[str, str]
) -> subprocess.Popen[str]:
    """Start ``script --child ARGS`` with the checkout's interpreter, ``code`` first on the path."""
    return subprocess.Popen(
        [python_of(code), script, "--child", *args],
        env={**env, "PYTHONPATH": f"{code}{os.pathsep}{ROOT / 'bench'}"},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=code,
    )


def child_ready(process: subprocess.Popen[str]) -> None:
    assert process.stdout is not None
    line = process.stdout.readline()
    if line.strip() != "ready":
        raise SystemExit(f"child did not start: {line!r}")


def child_go(process: subprocess.Popen[str]) -> None:
    assert process.stdin is not None
    process.stdin.write("go\n")
    process.stdin.flush()


def child_result(process: subprocess.Popen[str]) -> dict[str, Any]:
    out, _ = process.communicate(timeout=900)
    if process.returncode != 0:
        raise SystemExit(f"child failed with {process.returncode}")
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def wait_for_go() -> None:
    """In a child: say ready, then block until the parent says go."""
    print("ready", flush=True)
    sys.stdin.readline()


def machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return f"{os.cpu_count()} cores ({cpu}), load average {os.getloadavg()[0]:.1f}"
