"""The worker's liveness signal, on a real `notifier worker` (issue 13, item 7)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

from notifier.heartbeat import GRACE_SECONDS, seconds_left
from tests.processes import settings_env, workers


def probe(path) -> int:
    return subprocess.run(
        [sys.executable, "-m", "notifier.heartbeat", str(path)], capture_output=True, timeout=30
    ).returncode


def wait_until(predicate, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_a_running_worker_keeps_its_heartbeat_and_a_frozen_one_does_not(settings, tmp_path):
    beat = tmp_path / "worker.heartbeat"
    env = settings_env(settings, NOTIFIER_WORKER_HEARTBEAT_FILE=str(beat))
    with workers(env, tmp_path, 1) as (worker,):
        wait_until(beat.exists)
        assert probe(beat) == 0
        first = float(beat.read_text())
        # Idle threads beat every poll; the file is rewritten about once a second.
        wait_until(lambda: float(beat.read_text()) > first + 1)
        left = seconds_left(beat)
        assert left is not None
        assert 0 < left <= settings.inspect_timeout_seconds + GRACE_SECONDS
        worker.send_signal(signal.SIGSTOP)  # hung: no thread runs any more
        try:
            frozen = beat.read_text()
            time.sleep(2.5)
            assert beat.read_text() == frozen
        finally:
            worker.send_signal(signal.SIGCONT)
        wait_until(lambda: beat.read_text() != frozen)
