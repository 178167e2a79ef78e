"""``notifier serve`` and ``notifier worker``: the long-running processes."""

from __future__ import annotations

import errno
import logging
import socket
import threading

import click
from werkzeug.serving import BaseWSGIServer, make_server

from notifier import analysis
from notifier.app import Runtime
from notifier.cli.exits import UsageProblem
from notifier.cli.runtime import load_runtime
from notifier.cli.worker import (
    export_sender,
    on_shutdown_signal,
    run_in_process,
    supervise,
)
from notifier.metrics import serve_metrics
from notifier.multiproc import reset_multiprocess_dir
from notifier.processing import start_workers
from notifier.web.serving import RedactingRequestHandler

logger = logging.getLogger(__name__)


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
    help="Processing threads per process (default: NOTIFIER_WORKER_THREADS).",
)
@click.option(
    "--processes",
    type=click.IntRange(1, 64),
    default=None,
    help="Worker processes, e.g. one per core (default: NOTIFIER_WORKER_PROCESSES).",
)
@click.option(
    "--metrics-port",
    type=click.IntRange(1, 65535),
    default=None,
    help="Serve Prometheus metrics on this port (GET /metrics); off by default.",
)
def worker(threads: int | None, processes: int | None, metrics_port: int | None) -> None:
    """Process stored events: inspect objects and write audit rows."""
    runtime = load_runtime()
    if metrics_port is not None:
        reset_multiprocess_dir()
        serve_metrics(metrics_port)
    threads = threads or runtime.settings.worker_threads
    processes = processes or runtime.settings.worker_processes
    if processes == 1:
        run_in_process(runtime, threads)
        return
    raise SystemExit(supervise(runtime, processes, threads))


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
        [
            *start_workers(runtime.processor(), runtime.settings.worker_threads, stop),
            analysis.start_catch_up(runtime.pool, runtime.settings.analysis, stop),
            *export_sender(runtime, stop),
        ]
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
