"""``notifier worker``: processing threads in one process, or in several processes.

Inspection of small objects is CPU-bound, and Python threads share one core (the GIL):
``--processes N`` runs N independent worker processes (each with its own connection pool,
S3 client, threads and heartbeat file), supervised by this one, which also serves the
metrics port (summing the children's counts, PROMETHEUS_MULTIPROC_DIR), relays the
earliest of the children's heartbeat deadlines into the probed file, and sends alerts and
OpenLineage events. A process that dies stops the others and the command exits
non-zero, so Kubernetes restarts the pod; the events it held are taken again once their
leases run out.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any, Final

from notifier import analysis, export
from notifier.app import Runtime
from notifier.config import Settings
from notifier.heartbeat import GRACE_SECONDS, Heartbeat, child_path, relay, write_deadline
from notifier.processing import start_workers

logger = logging.getLogger(__name__)

SHUTDOWN_SIGNALS: Final = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
"""Each stops the process cleanly; SIGHUP is what a closed terminal sends."""

SUPERVISOR_POLL_SECONDS: Final = 1.0
CHILD_STOP_SECONDS: Final = 110.0
"""Under the Deployment's terminationGracePeriodSeconds (120 s)."""


def run_in_process(
    runtime: Runtime, threads: int, *, send_exports: bool = True, child: int | None = None
) -> None:
    """Process events with ``threads`` threads until a shutdown signal; ``child``: this
    process's index under a supervisor (its heartbeat goes to its own file)."""
    stop = threading.Event()
    beat = heartbeat(runtime.settings, child)
    running = start_workers(runtime.processor(), threads, stop, beat)
    running.append(analysis.start_catch_up(runtime.pool, runtime.settings.analysis, stop))
    if send_exports:
        running += export_sender(runtime, stop)
    logger.info("worker started with %d thread(s)", threads)
    on_shutdown_signal(stop.set)
    try:
        stop.wait()
    finally:
        stop.set()
        for thread in running:
            thread.join()
        runtime.close()


def supervise(runtime: Runtime, processes: int, threads: int) -> int:
    """Run ``processes`` worker processes; returns the exit status for the command.

    ``runtime`` stays with this process for the export sender; each child opens its own.
    """
    context = multiprocessing.get_context("spawn")  # no pool or socket crosses a fork
    children = [
        context.Process(target=_child, args=(threads, n), name=f"notifier-worker-{n}")
        for n in range(processes)
    ]
    stop = threading.Event()
    on_shutdown_signal(stop.set)
    senders = export_sender(runtime, stop)
    relay_beats = heartbeat_relay(runtime.settings, processes)
    for child in children:
        child.start()
    logger.info("started %d worker process(es), %d thread(s) each", processes, threads)
    status = 0
    while not stop.wait(SUPERVISOR_POLL_SECONDS):
        relay_beats()
        dead = [c for c in children if not c.is_alive()]
        if dead:
            logger.error(
                "worker process %s exited with %s; stopping the others",
                dead[0].name,
                dead[0].exitcode,
            )
            status = 1
            break
    stop.set()
    for child in children:
        if child.is_alive():
            child.terminate()  # SIGTERM: finish the batch in hand, then exit
    for child in children:
        child.join(CHILD_STOP_SECONDS)
        if child.is_alive():
            child.kill()
            child.join()
    for sender in senders:
        sender.join()
    runtime.close()
    return status


def _child(threads: int, index: int) -> None:
    from notifier.cli.runtime import load_runtime

    run_in_process(load_runtime(), threads, send_exports=False, child=index)


def heartbeat(settings: Settings, child: int | None = None) -> Callable[[], None] | None:
    """The beat of the worker's liveness file (of child process ``child``'s own file),
    written once now (see notifier.heartbeat)."""
    path = settings.worker_heartbeat_file
    if path is None:
        return None
    if child is not None:
        path = child_path(path, child)
    max_gap = max_beat_gap(settings)
    write_deadline(path, time.time() + max_gap)
    return Heartbeat(path, max_gap).beat


def heartbeat_relay(settings: Settings, processes: int) -> Callable[[], None]:
    """What the supervisor calls about once a second: the earliest of the children's
    deadlines into the probed file (a child not started yet counts as just started).
    The children's files of a previous run (a restarted container) are removed first."""
    probed = settings.worker_heartbeat_file
    if probed is None:
        return lambda: None
    children = [child_path(probed, n) for n in range(processes)]
    for stale in children:
        stale.unlink(missing_ok=True)
    fallback = time.time() + max_beat_gap(settings)
    failing = False

    def relay_now() -> None:
        # A write that fails (a full or read-only disk) must not stop the supervisor,
        # which would orphan its children; the probe then fails as the deadline passes.
        nonlocal failing
        try:
            relay(probed, children, fallback)
        except OSError as exc:
            if not failing:
                logger.warning("cannot relay the heartbeat to %s: %s", probed, exc)
            failing = True
        else:
            failing = False

    relay_now()
    return relay_now


def max_beat_gap(settings: Settings) -> float:
    """Seconds a processing loop may take: one inspection plus the grace around it."""
    return settings.inspect_timeout_seconds + GRACE_SECONDS


def export_sender(runtime: Runtime, stop: threading.Event) -> list[threading.Thread]:
    """The alerts / OpenLineage sender thread, when a sink is configured (notifier.export)."""
    settings = runtime.settings
    thread = export.start_sender(runtime.pool, settings.export, settings.analysis, stop)
    return [thread] if thread is not None else []


def on_shutdown_signal(callback: Callable[[], Any]) -> None:
    def handler(signum: int, frame: FrameType | None) -> None:
        logger.info("received %s, shutting down", signal.Signals(signum).name)
        callback()

    for signum in SHUTDOWN_SIGNALS:
        signal.signal(signum, handler)
