"""The worker's liveness signal, on a real `notifier worker` (issue 13, item 7)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from notifier.heartbeat import GRACE_SECONDS, child_path, read_deadline, seconds_left
from tests.processes import settings_env, workers


def probe(path) -> int:
    return subprocess.run(
        [sys.executable, "-m", "notifier.heartbeat", str(path)], capture_output=True, timeout=30
    ).returncode


def cmdline(pid: int) -> bytes:
    with open(f"/proc/{pid}/cmdline", "rb") as file:
        return file.read()


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


def test_one_frozen_process_among_several_stops_the_relayed_heartbeat(settings, tmp_path):
    """``--processes 2``: each child beats into its own file and the supervisor relays
    the earliest deadline, so the probed file stops advancing when one child hangs
    although the other keeps beating (one shared file would hide it)."""
    beat = tmp_path / "worker.heartbeat"
    own = [child_path(beat, n) for n in range(2)]
    own[0].write_text("1.0\n")  # a previous run's file, long expired
    env = settings_env(settings, NOTIFIER_WORKER_HEARTBEAT_FILE=str(beat))
    with workers(env, tmp_path, 1, "--processes", "2", "--threads", "1") as (supervisor,):
        wait_until(lambda: all((read_deadline(f) or 0) > 1000 for f in own))
        first = read_deadline(beat)
        assert first is not None
        wait_until(lambda: (read_deadline(beat) or 0) > first + 1)  # relayed as they beat
        assert probe(beat) == 0
        pids = subprocess.run(
            ["pgrep", "-P", str(supervisor.pid)], capture_output=True, text=True, check=True
        ).stdout.split()
        # The worker processes, not multiprocessing's resource tracker.
        children = [int(pid) for pid in pids if b"spawn_main" in cmdline(int(pid))]
        assert len(children) == 2, pids
        frozen_pid = children[0]
        os.kill(frozen_pid, signal.SIGSTOP)
        try:
            time.sleep(1.5)  # its last write has landed and been relayed
            held = read_deadline(beat)
            time.sleep(2.5)
            assert read_deadline(beat) == held  # the frozen child's deadline holds it
            beating = [read_deadline(f) or 0 for f in own]
            assert max(beating) > (held or 0) + 1  # while the other child beats on
        finally:
            os.kill(frozen_pid, signal.SIGCONT)
        wait_until(lambda: (read_deadline(beat) or 0) > (held or 0))
