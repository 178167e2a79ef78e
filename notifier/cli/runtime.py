"""What every command needs before it runs: settings, turned into a Runtime."""

from __future__ import annotations

from notifier.app import Runtime
from notifier.cli.exits import ConfigurationError
from notifier.config import Settings
from notifier.errors import ConfigError


def load_settings(*, receives_webhooks: bool) -> Settings:
    """Settings from the environment; every bad variable named at once (exit status 4)."""
    try:
        return Settings.from_env(receives_webhooks=receives_webhooks)
    except ConfigError as exc:
        raise ConfigurationError(str(exc)) from None


def load_runtime(*, receives_webhooks: bool = False) -> Runtime:
    """The pool and store of a command; only ``serve`` authenticates webhooks."""
    return Runtime.from_settings(load_settings(receives_webhooks=receives_webhooks))
