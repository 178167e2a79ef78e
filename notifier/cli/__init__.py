"""The ``notifier`` command: one module per command group, registered here.

Exit statuses are shared by every command: see ``notifier.cli.exits``.
"""

from __future__ import annotations

import click

from notifier.cli.backfill import register as register_backfill_commands
from notifier.cli.db import db
from notifier.cli.dev import dev
from notifier.cli.events import register as register_event_commands
from notifier.cli.export import export_group
from notifier.cli.report import register as register_report_commands
from notifier.cli.runtime import load_runtime
from notifier.cli.service import serve, worker
from notifier.config import ENVIRONMENT


def _environment_help() -> str:
    lines = [f"  {v.name}{'' if v.required else ' (optional)'}: {v.help}" for v in ENVIRONMENT]
    return "Settings come from the environment:\n\n\b\n" + "\n".join(lines)


@click.group(epilog=_environment_help())
@click.version_option(package_name="notifier")
def main() -> None:
    """Audit an MLOps pipeline's object-storage uploads into PostgreSQL.

    Exit statuses: 0 done; 1 findings (unaudited objects, drift, problems); 2 usage
    error; 3 store or database unreachable; 4 configuration error.
    """


main.add_command(db)
main.add_command(serve)
main.add_command(worker)
main.add_command(dev)
main.add_command(export_group)
register_backfill_commands(main, load_runtime)
register_report_commands(main)
register_event_commands(main, load_runtime)
