"""What a sink is: where it posts, and what it has to say about the audit database."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from notifier.config import ExportSettings
from notifier.export.outbox import Message, Target

Collector = Callable[[psycopg.Connection[Any], ExportSettings, datetime], list[Message]]
"""Messages owed now: new ones only (those already in the outbox are left out)."""


@dataclass(frozen=True)
class Sink:
    """One destination; ``name`` is its ``export_outbox.sink`` value."""

    name: str
    target: Callable[[ExportSettings], Target | None]
    """Where to post, or None when the sink is not configured."""
    collect: Collector
