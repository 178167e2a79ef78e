"""The ``notifier`` command."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import click
import psycopg
from werkzeug.serving import make_server

from notifier.app import Runtime
from notifier.cli.backfill import register as register_backfill_commands
from notifier.cli.worker import on_shutdown_signal, run_in_process, supervise
from notifier.config import ENVIRONMENT, Settings, database_url_from_env
from notifier.db import CONNECT_TIMEOUT_SECONDS, upgrade
from notifier.errors import ConfigError
from notifier.logs import configure_logging
from notifier.processing import start_workers

if TYPE_CHECKING:
    from notifier.devstack.stack import DevStack

logger = logging.getLogger(__name__)


def _environment_help() -> str:
    lines = [f"  {v.name}{'' if v.required else ' (optional)'}: {v.help}" for v in ENVIRONMENT]
    return "Settings come from the environment:\n\n\b\n" + "\n".join(lines)


@click.group(epilog=_environment_help())
@click.version_option(package_name="notifier")
def main() -> None:
    """Audit an MLOps pipeline's object-storage uploads into PostgreSQL."""


def load_runtime() -> Runtime:
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        raise click.ClickException(f"configuration: {exc}") from None
    return Runtime.from_settings(settings)


register_backfill_commands(main, load_runtime)


@main.group()
def db() -> None:
    """Manage the audit database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations (idempotent; safe when replicas run it at once).

    Needs only NOTIFIER_DATABASE_URL.
    """
    try:
        url = database_url_from_env()
    except ConfigError as exc:
        raise click.ClickException(f"configuration: {exc}") from None
    configure_logging("INFO")
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS) as conn:
            applied = upgrade(conn)
    except psycopg.OperationalError as exc:
        raise click.ClickException(f"database unavailable: {exc}") from None
    click.echo(f"applied: {', '.join(applied)}" if applied else "schema is up to date")


@main.command()
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
    _serve(load_runtime(), host, port, workers)


@main.command()
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(".notifier-dev"),
    show_default=True,
    help="Folder holding the local servers' data, kept between runs.",
)
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535))
@click.option("--pg-port", default=55432, show_default=True, type=click.IntRange(1, 65535))
@click.option("--s3-port", default=8333, show_default=True, type=click.IntRange(1, 65535))
@click.option("--sample", is_flag=True, help="Upload a small pipeline run and print its rows.")
def dev(home: Path, port: int, pg_port: int, s3_port: int, sample: bool) -> None:
    """Run notifier with a local PostgreSQL and SeaweedFS (data kept in --home).

    SeaweedFS notifies notifier of every upload, so any S3 client writing to the local
    endpoint produces audit rows.
    """
    from notifier.devstack.stack import dev_stack

    with dev_stack(home.absolute(), pg_port=pg_port, s3_port=s3_port, webhook_port=port) as stack:
        runtime = Runtime.from_settings(stack.settings)
        endpoint = f"http://127.0.0.1:{port}/events"
        click.echo(
            "\n".join(
                [
                    "",
                    f"  webhook endpoint   {endpoint}",
                    f"  webhook token      {stack.settings.auth_token}",
                    f"  S3 endpoint        {stack.s3_endpoint}",
                    f"  S3 access key      {stack.s3_access_key}",
                    f"  S3 secret key      {stack.s3_secret_key}",
                    f"  database           {stack.settings.database_url}",
                    f"  buckets            {', '.join(stack.settings.bucket_phases)}",
                    f"  data folder        {stack.home}",
                    "",
                    "  Point MinIO at it:",
                    "    MINIO_NOTIFY_WEBHOOK_ENABLE_NOTIFIER=on",
                    f"    MINIO_NOTIFY_WEBHOOK_ENDPOINT_NOTIFIER={endpoint}",
                    f"    MINIO_NOTIFY_WEBHOOK_AUTH_TOKEN_NOTIFIER={stack.settings.auth_token}",
                    "",
                    "  Upload something (SeaweedFS notifies notifier; a row appears in ~1 s):",
                    f"    AWS_ACCESS_KEY_ID={stack.s3_access_key} "
                    f"AWS_SECRET_ACCESS_KEY={stack.s3_secret_key} \\",
                    f"      aws --endpoint-url {stack.s3_endpoint} s3 cp data.csv s3://raw/data.csv",
                    f"    psql '{stack.settings.database_url}' -c 'TABLE ingestion_events'",
                    "  Ctrl-C stops everything.",
                    "",
                ]
            ),
            err=True,
        )
        if sample:
            threading.Thread(target=_sample_run, args=(stack,), daemon=True).start()
        _serve(runtime, "127.0.0.1", port, workers=True)


def _sample_run(stack: DevStack) -> None:
    from notifier.devstack.sample import upload_sample_run, wait_for_rows

    phases = {phase: bucket for bucket, phase in stack.settings.bucket_phases.items()}
    run = upload_sample_run(stack.client, phases)
    rows = wait_for_rows(stack.settings.database_url, run, expected=4, timeout=15)
    lines = [f"  {p:<15} {o:<60} {n!s:>6} {e:<7} {x or ''}" for p, o, n, e, x in rows]
    click.echo("\n".join([f"\n  Audit rows of sample {run}:", *lines, ""]), err=True)


def _serve(runtime: Runtime, host: str, port: int, workers: bool) -> None:
    stop = threading.Event()
    threads = (
        start_workers(runtime.processor(), runtime.settings.worker_threads, stop) if workers else []
    )
    server = make_server(host, port, runtime.receiver(), threaded=True)
    click.echo(f"notifier listening on http://{host}:{server.port}/events", err=True)
    on_shutdown_signal(lambda: threading.Thread(target=server.shutdown).start())
    try:
        server.serve_forever()
    finally:
        stop.set()
        for thread in threads:
            thread.join()
        runtime.close()


@main.command()
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
def worker(threads: int | None, processes: int | None) -> None:
    """Process stored events: inspect objects and write audit rows."""
    runtime = load_runtime()
    threads = threads or runtime.settings.worker_threads
    processes = processes or runtime.settings.worker_processes
    if processes == 1:
        run_in_process(runtime, threads)
        return
    runtime.close()  # each process opens its own pool
    raise SystemExit(supervise(processes, threads))
