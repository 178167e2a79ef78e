"""``notifier worker``: processing threads in one process, or in several processes.

Inspection of small objects is CPU-bound, and Python threads share one core (the GIL):
``--processes N`` runs N independent worker processes (each with its own connection pool,
S3 client and threads), supervised by this one. A process that dies stops the others and
the command exits non-zero, so Kubernetes restarts the pod; the events it held are taken
again once their leases run out.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any, Final

from notifier.app import Runtime
from notifier.processing import start_workers

logger = logging.getLogger(__name__)

SUPERVISOR_POLL_SECONDS: Final = 1.0
CHILD_STOP_SECONDS: Final = 110.0
"""Under the Deployment's terminationGracePeriodSeconds (120 s)."""


def run_in_process(runtime: Runtime, threads: int) -> None:
    """Process events with ``threads`` threads until SIGTERM or SIGINT."""
    stop = threading.Event()
    running = start_workers(runtime.processor(), threads, stop)
    logger.info("worker started with %d thread(s)", threads)
    on_shutdown_signal(stop.set)
    try:
        stop.wait()
    finally:
        stop.set()
        for thread in running:
            thread.join()
        runtime.close()


def supervise(processes: int, threads: int) -> int:
    """Run ``processes`` worker processes; returns the exit status for the command."""
    context = multiprocessing.get_context("spawn")  # no pool or socket crosses a fork
    children = [
        context.Process(target=_child, args=(threads,), name=f"notifier-worker-{n}")
        for n in range(processes)
    ]
    stop = threading.Event()
    on_shutdown_signal(stop.set)
    for child in children:
        child.start()
    logger.info("started %d worker process(es), %d thread(s) each", processes, threads)
    status = 0
    while not stop.wait(SUPERVISOR_POLL_SECONDS):
        dead = [c for c in children if not c.is_alive()]
        if dead:
            logger.error(
                "worker process %s exited with %s; stopping the others",
                dead[0].name,
                dead[0].exitcode,
            )
            status = 1
            break
    for child in children:
        if child.is_alive():
            child.terminate()  # SIGTERM: finish the batch in hand, then exit
    for child in children:
        child.join(CHILD_STOP_SECONDS)
        if child.is_alive():
            child.kill()
            child.join()
    return status


def _child(threads: int) -> None:
    from notifier.cli import load_runtime

    run_in_process(load_runtime(), threads)


def on_shutdown_signal(callback: Callable[[], Any]) -> None:
    def handler(signum: int, frame: FrameType | None) -> None:
        logger.info("received %s, shutting down", signal.Signals(signum).name)
        callback()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
