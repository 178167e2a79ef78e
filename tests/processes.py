"""Real notifier processes for tests: gunicorn receivers and `notifier worker`s.

Each runs as a child process with the test's settings in its environment, logs to a
file of the test's own, and is stopped (SIGTERM, then SIGKILL) when the block ends.
"""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from notifier.config import Settings
from notifier.devstack.servers import free_port

BIN = Path(sys.executable).parent
START_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 15.0


def settings_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The NOTIFIER_* variables that rebuild ``settings`` in a child process."""
    env = {
        "PATH": os.environ["PATH"],
        "NOTIFIER_DATABASE_URL": settings.database_url,
        "NOTIFIER_S3_ENDPOINT": settings.s3.endpoint,
        "NOTIFIER_S3_ACCESS_KEY": settings.s3.access_key,
        "NOTIFIER_S3_SECRET_KEY": settings.s3.secret_key,
        "NOTIFIER_BUCKET_MAP": ",".join(
            f"{bucket}={phase.short_name}" for bucket, phase in settings.bucket_phases.items()
        ),
        "NOTIFIER_INSPECT_TIMEOUT_SECONDS": str(settings.inspect_timeout_seconds),
        "NOTIFIER_MAX_BODY_BYTES": str(settings.max_body_bytes),
    }
    if settings.auth_token is None:
        env["NOTIFIER_AUTH_DISABLED"] = "true"
    else:
        env["NOTIFIER_AUTH_TOKEN"] = settings.auth_token
    env.update(extra)
    return env


@dataclass(frozen=True)
class Receiver:
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def connection(self, timeout: float = 10.0) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = 10.0,
    ) -> tuple[int, bytes]:
        conn = self.connection(timeout)
        try:
            conn.request(method, path, body=body, headers=dict(headers or {}))
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()


def wait_healthy(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"receiver exited with {process.returncode}:\n{log.read_text()}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        finally:
            conn.close()
        time.sleep(0.1)
    raise RuntimeError(f"receiver did not answer /healthz:\n{log.read_text()}")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def gunicorn(
    env: Mapping[str, str], log_dir: Path, *args: str, name: str = "gunicorn"
) -> Iterator[Receiver]:
    """gunicorn with the shipped configuration (notifier.web.gunicorn_conf) on loopback."""
    port = free_port()
    log = log_dir / f"{name}-{port}.log"
    argv = [
        str(BIN / "gunicorn"),
        "--config=python:notifier.web.gunicorn_conf",
        f"--bind=127.0.0.1:{port}",
        f"--worker-tmp-dir={log_dir}",
        *args,
        "notifier.wsgi:app",
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(argv, env=dict(env), stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_healthy(port, process, log)
        yield Receiver(port=port, process=process, log=log)
    finally:
        stop(process)


@contextmanager
def workers(
    env: Mapping[str, str], log_dir: Path, count: int, *args: str, name: str = "worker"
) -> Iterator[list[subprocess.Popen[bytes]]]:
    """``count`` processes of ``notifier worker``, logging to ``<name>-<n>.log``."""
    processes = []
    try:
        for n in range(count):
            log = log_dir / f"{name}-{n}.log"
            with log.open("wb") as out:
                processes.append(
                    subprocess.Popen(
                        [str(BIN / "notifier"), "worker", *args],
                        env=dict(env),
                        stdout=out,
                        stderr=subprocess.STDOUT,
                    )
                )
        yield processes
    finally:
        for process in processes:
            stop(process)
