"""The worker's liveness signal: a heartbeat file, and the probe that reads it.

``notifier worker`` serves no port, so Kubernetes cannot ask it over HTTP whether it is
stuck. Instead every processing thread beats once per loop (at least every
``IDLE_POLL_SECONDS`` when idle, and once per event when busy), and the file records
the moment by which the *slowest* thread must beat again: its last beat plus the
longest a loop may take (one inspection, ``NOTIFIER_INSPECT_TIMEOUT_SECONDS``, plus
``GRACE_SECONDS`` for the database round trips around it). One hung thread among
several is enough to let that moment pass.

With ``notifier worker --processes N`` each worker process beats into a file of its own
(``child_path``: ``<file>.<n>``) and the supervising process relays the earliest of
their deadlines into the probed file about once a second (``relay``): one hung process
among several lets that moment pass too, and so does a hung supervisor (it stops
relaying, and the last deadline it wrote runs out).

The probe is this module run as a script, which imports nothing but the standard
library (about 40 ms of CPU, against about a second for the whole ``notifier``
command)::

    python -m notifier.heartbeat /tmp/notifier-worker.heartbeat    # exit 0 alive, 1 not

File format: one line, the deadline as Unix time in seconds (a float).
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path
from typing import Final

GRACE_SECONDS: Final = 120.0
"""Added to the inspection budget: claim, postpone or finish, each bounded by the pool's
checkout and connect timeouts, and a database outage's retry pause."""

WRITE_INTERVAL_SECONDS: Final = 1.0
"""At most one write per second, however often threads beat."""


class Heartbeat:
    """Per-thread beats, written to ``path`` as the deadline of the slowest thread."""

    def __init__(self, path: Path, max_gap_seconds: float) -> None:
        self._path = path
        self._max_gap = max_gap_seconds
        self._beats: dict[int, float] = {}
        self._written = 0.0
        self._lock = threading.Lock()

    def beat(self) -> None:
        """Record that the calling thread is alive; rewrite the file when due."""
        now = time.time()
        with self._lock:
            self._beats[threading.get_ident()] = now
            if now - self._written < WRITE_INTERVAL_SECONDS:
                return
            self._written = now
            deadline = min(self._beats.values()) + self._max_gap
        write_deadline(self._path, deadline)


def write_deadline(path: Path, deadline: float) -> None:
    """Replace the file atomically, so the probe never reads half a number."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    temporary.write_text(f"{deadline:.3f}\n", encoding="ascii")
    os.replace(temporary, path)


def child_path(path: Path, index: int) -> Path:
    """The heartbeat file of worker process ``index`` (0-based) of a supervisor probed at
    ``path``: ``<path>.<index>``, in the same folder."""
    return path.with_name(f"{path.name}.{index}")


def relay(path: Path, children: list[Path], fallback: float) -> float:
    """Write to ``path`` the earliest deadline (Unix seconds) among the ``children``'s
    files, ``fallback`` standing for a child whose file is missing or unreadable (one
    not started yet); return it."""
    deadlines = [read_deadline(child) for child in children]
    deadline = min((d if d is not None else fallback for d in deadlines), default=fallback)
    write_deadline(path, deadline)
    return deadline


def read_deadline(path: Path) -> float | None:
    """The deadline (Unix seconds) in ``path``; None if missing or unreadable."""
    try:
        return float(path.read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return None


def seconds_left(path: Path, now: float | None = None) -> float | None:
    """Seconds until the deadline in ``path`` (negative once passed); None if unreadable."""
    deadline = read_deadline(path)
    if deadline is None:
        return None
    return deadline - (time.time() if now is None else now)


def main(argv: list[str] | None = None) -> int:
    """The probe: exit 0 while the worker's deadline is ahead, 1 otherwise."""
    parser = argparse.ArgumentParser(
        prog="python -m notifier.heartbeat", description="Is `notifier worker` alive?"
    )
    parser.add_argument("file", type=Path, help="the worker's NOTIFIER_WORKER_HEARTBEAT_FILE")
    args = parser.parse_args(argv)
    left = seconds_left(args.file)
    if left is None:
        print(f"no heartbeat in {args.file}", file=sys.stderr)
        return 1
    if left < 0:
        print(f"worker missed its heartbeat {-left:.0f} s ago", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
