"""Logging setup for entry points: one line per record, with structured fields."""

from __future__ import annotations

import logging
import sys
from typing import Final

STRUCTURED_FIELDS: Final = (
    "action",
    "event_id",
    "bucket",
    "key",
    "event_name",
    "status",
    "reason",
    "dead_letter_id",
    "remote_addr",
)


class KeyValueFormatter(logging.Formatter):
    """Appends the structured fields a record carries as ``name=value`` pairs."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = [
            f"{name}={getattr(record, name)!r}"
            for name in STRUCTURED_FIELDS
            if getattr(record, name, None) is not None
        ]
        return f"{line} {' '.join(fields)}" if fields else line


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        KeyValueFormatter("%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
