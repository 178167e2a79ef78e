"""Exit statuses shared by every ``notifier`` command (documented in the README).

| status | meaning |
|---|---|
| 0 | done: nothing to report |
| 1 | findings: objects left unaudited (rescan), drift not fixed (reconcile), |
|   | bodies still unreadable (dead-letters retry), problems found (report --check) |
| 2 | usage error: a bad option or argument, a busy port |
| 3 | the store or the database could not be reached |
| 4 | configuration error: settings missing or malformed (all named at once) |
"""

from __future__ import annotations

from typing import Final

import click

EXIT_OK: Final = 0
EXIT_FINDINGS: Final = 1
EXIT_USAGE: Final = 2
EXIT_UNAVAILABLE: Final = 3
EXIT_CONFIG: Final = 4


class ConfigurationError(click.ClickException):
    """Settings missing or malformed; exits with EXIT_CONFIG."""

    exit_code = EXIT_CONFIG

    def __init__(self, message: str) -> None:
        super().__init__(f"configuration: {message}")


class UsageProblem(click.ClickException):
    """A usage problem found after parsing (a busy port); exits with EXIT_USAGE."""

    exit_code = EXIT_USAGE
