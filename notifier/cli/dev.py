"""``notifier dev``: the whole stack on this machine; ``notifier dev env``: its settings."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Final

import click

from notifier.app import Runtime
from notifier.cli.exits import EXIT_UNAVAILABLE, UsageProblem
from notifier.cli.service import port_in_use, serve_runtime
from notifier.cli.worker import SHUTDOWN_SIGNALS

if TYPE_CHECKING:
    from notifier.devstack.stack import DevStack

DEFAULT_HOME: Final = Path(".notifier-dev")

home_option = click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_HOME,
    show_default=True,
    help="Folder holding the local servers' data, kept between runs.",
)


@click.group(invoke_without_command=True)
@home_option
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address notifier listens on (0.0.0.0 to accept webhooks from other machines).",
)
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535))
@click.option("--pg-port", default=55432, show_default=True, type=click.IntRange(1, 65535))
@click.option("--s3-port", default=8333, show_default=True, type=click.IntRange(1, 65535))
@click.option("--sample", is_flag=True, help="Upload a small pipeline run and print its rows.")
@click.pass_context
def dev(
    ctx: click.Context, home: Path, host: str, port: int, pg_port: int, s3_port: int, sample: bool
) -> None:
    """Run notifier with a local PostgreSQL and SeaweedFS (data kept in --home).

    SeaweedFS notifies notifier of every upload, so any S3 client writing to the local
    endpoint produces audit rows. `notifier dev env` prints the settings that point
    every other command at this stack.
    """
    if ctx.invoked_subcommand is not None:
        return
    _exit_on_signal()
    from notifier.devstack.stack import DevStackError, dev_stack

    if port_in_use(host, port):
        raise UsageProblem(f"port {port} on {host} is already in use: choose another with --port")
    try:
        with dev_stack(
            home.absolute(), pg_port=pg_port, s3_port=s3_port, webhook_port=port
        ) as stack:
            click.echo(stack.banner(host, port), err=True)
            if sample:
                threading.Thread(target=_sample_run, args=(stack,), daemon=True).start()
            serve_runtime(Runtime.from_settings(stack.settings), host, port, workers=True)
    except DevStackError as exc:
        for busy, option in ((pg_port, "--pg-port"), (s3_port, "--s3-port")):
            if port_in_use("127.0.0.1", busy):
                raise UsageProblem(
                    f"port {busy} is already in use: choose another with {option}"
                ) from None
        raise click.ClickException(str(exc)) from None


@dev.command("env")
@home_option
@click.pass_context
def dev_env(ctx: click.Context, home: Path) -> None:
    """Print `export NOTIFIER_...` lines for the running dev stack.

    Use: eval "$(notifier dev env)"; then rescan, reconcile, report and the rest work
    against the local stack.
    """
    from notifier.devstack.stack import ENV_FILE

    if ctx.get_parameter_source("home") is click.core.ParameterSource.DEFAULT and ctx.parent:
        home = ctx.parent.params["home"]  # `notifier dev --home DIR env`

    path = home.absolute() / ENV_FILE
    if not path.is_file():
        click.echo(
            f"Error: no dev stack is running with data in {home}: start one with `make run`"
            " (or `notifier dev`)",
            err=True,
        )
        raise SystemExit(EXIT_UNAVAILABLE)
    click.echo(path.read_text(encoding="utf-8"), nl=False)


def _sample_run(stack: DevStack) -> None:
    from notifier.devstack.sample import upload_sample_run, wait_for_rows

    phases = {phase: bucket for bucket, phase in stack.settings.bucket_phases.items()}
    run = upload_sample_run(stack.client, phases)
    rows = wait_for_rows(stack.settings.database_url, run, expected=4, timeout=15)
    lines = [f"  {p:<15} {o:<60} {n!s:>6} {e:<7} {x or ''}" for p, o, n, e, x in rows]
    click.echo("\n".join([f"\n  Audit rows of sample {run}:", *lines, ""]), err=True)


def _exit_on_signal() -> None:
    """While the servers start, a signal (a closed terminal's SIGHUP too) unwinds the
    stack so every child server is stopped; serving installs a graceful handler later."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    for signum in SHUTDOWN_SIGNALS:
        signal.signal(signum, handler)
