"""``notifier serve`` and ``notifier worker``: the long-running processes."""

from __future__ import annotations

import errno
import logging
import signal
import socket
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any, Final

import click
from werkzeug.serving import BaseWSGIServer, make_server

from notifier import export
from notifier.app import Runtime
from notifier.cli.exits import UsageProblem
from notifier.cli.runtime import load_runtime
from notifier.config import Settings
from notifier.heartbeat import GRACE_SECONDS, Heartbeat, write_deadline
from notifier.metrics import serve_metrics
from notifier.multiproc import reset_multiprocess_dir
from notifier.processing import start_workers
from notifier.web.serving import RedactingRequestHandler

logger = logging.getLogger(__name__)

SHUTDOWN_SIGNALS: Final = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
"""Each stops the process cleanly; SIGHUP is what a closed terminal sends."""


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--workers/--no-workers",
    default=True,
    show_default=True,
    help="Also process events in this process (NOTIFIER_WORKER_THREADS threads).",
)
def serve(host: str, port: int, workers: bool) -> None:
    """Serve the webhook receiver (gunicorn 'notifier.wsgi:app' in production)."""
    serve_runtime(load_runtime(receives_webhooks=True), host, port, workers)


@click.command()
@click.option(
    "--threads",
    type=click.IntRange(1, 64),
    default=None,
    help="Processing threads (default: NOTIFIER_WORKER_THREADS).",
)
@click.option(
    "--metrics-port",
    type=click.IntRange(1, 65535),
    default=None,
    help="Serve Prometheus metrics on this port (GET /metrics); off by default.",
)
def worker(threads: int | None, metrics_port: int | None) -> None:
    """Process stored events: inspect objects and write audit rows."""
    runtime = load_runtime()
    if metrics_port is not None:
        reset_multiprocess_dir()
        serve_metrics(metrics_port)
    stop = threading.Event()
    count = threads or runtime.settings.worker_threads
    running = start_workers(runtime.processor(), count, stop, _heartbeat(runtime.settings))
    running += _export_sender(runtime, stop)
    logger.info("worker started with %d thread(s)", count)
    on_shutdown_signal(stop.set)
    try:
        stop.wait()
    finally:
        stop.set()
        for thread in running:
            thread.join()
        runtime.close()


def _heartbeat(settings: Settings) -> Callable[[], None] | None:
    """The beat of the worker's liveness file, written once now (see notifier.heartbeat)."""
    if settings.worker_heartbeat_file is None:
        return None
    max_gap = settings.inspect_timeout_seconds + GRACE_SECONDS
    write_deadline(settings.worker_heartbeat_file, time.time() + max_gap)
    return Heartbeat(settings.worker_heartbeat_file, max_gap).beat


def serve_runtime(
    runtime: Runtime, host: str, port: int, workers: bool, port_option: str = "--port"
) -> None:
    """Serve until a shutdown signal; a busy port is one line naming ``port_option``."""
    try:
        server = listen(runtime, host, port, port_option)
    except BaseException:
        runtime.close()
        raise
    stop = threading.Event()
    threads = (
        start_workers(runtime.processor(), runtime.settings.worker_threads, stop)
        + _export_sender(runtime, stop)
        if workers
        else []
    )
    logger.info("notifier listening on http://%s:%d/events", host, server.port)
    on_shutdown_signal(lambda: threading.Thread(target=server.shutdown).start())
    try:
        server.serve_forever()
    finally:
        stop.set()
        for thread in threads:
            thread.join()
        runtime.close()


def _export_sender(runtime: Runtime, stop: threading.Event) -> list[threading.Thread]:
    """The alerts / OpenLineage sender thread, when a sink is configured (notifier.export)."""
    settings = runtime.settings
    thread = export.start_sender(runtime.pool, settings.export, settings.analysis, stop)
    return [thread] if thread is not None else []


def listen(runtime: Runtime, host: str, port: int, port_option: str) -> BaseWSGIServer:
    # werkzeug prints its own advice and exits on a busy port: look first.
    if port_in_use(host, port):
        raise port_problem(OSError(errno.EADDRINUSE, "in use"), host, port, port_option)
    try:
        return make_server(
            host, port, runtime.receiver(), threaded=True, request_handler=RedactingRequestHandler
        )
    except OSError as exc:
        raise port_problem(exc, host, port, port_option) from None


def port_in_use(host: str, port: int) -> bool:
    """Whether a listener on ``host:port`` could not be opened now (taken, or forbidden)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def port_problem(exc: OSError, host: str, port: int, option: str) -> click.ClickException:
    """One line for a port that cannot be listened on, naming the option to change."""
    if exc.errno == errno.EADDRINUSE:
        return UsageProblem(
            f"port {port} on {host} is already in use: choose another with {option}"
        )
    if exc.errno == errno.EACCES:
        return UsageProblem(f"no permission to listen on port {port}: choose another with {option}")
    return UsageProblem(f"cannot listen on {host}:{port} ({exc.strerror}): check {option}")


def on_shutdown_signal(callback: Callable[[], Any]) -> None:
    def handler(signum: int, frame: FrameType | None) -> None:
        logger.info("received %s, shutting down", signal.Signals(signum).name)
        callback()

    for signum in SHUTDOWN_SIGNALS:
        signal.signal(signum, handler)
