"""Logging setup for entry points: one line per record, readable text or JSON lines.

Records carry structured fields (``extra={"action": ..., "event_id": ...}``); both
formats print them. Nothing here adds request bodies or headers: callers log ids,
buckets and keys, never payloads or credentials.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
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
    "sender",
    "phase",
    "estado",
)

TEXT_FORMAT: Final = "%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s"


class KeyValueFormatter(logging.Formatter):
    """Readable text: the message, then the structured fields as ``name=value`` pairs."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = [f"{name}={value!r}" for name, value in structured_fields(record).items()]
        return f"{line} {' '.join(fields)}" if fields else line


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``time`` (UTC, ISO 8601), ``level``, ``logger``,
    ``message``, the structured fields present, and ``exception`` when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "thread": record.threadName,
            "message": record.getMessage(),
            **structured_fields(record),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def structured_fields(record: logging.LogRecord) -> dict[str, object]:
    return {
        name: getattr(record, name)
        for name in STRUCTURED_FIELDS
        if getattr(record, name, None) is not None
    }


def configure_logging(level: str, log_format: str = "text") -> None:
    """Send every record to stderr, as text or JSON lines (``NOTIFIER_LOG_FORMAT``)."""
    handler = logging.StreamHandler(sys.stderr)
    formatter = JsonFormatter() if log_format == "json" else KeyValueFormatter(TEXT_FORMAT)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
