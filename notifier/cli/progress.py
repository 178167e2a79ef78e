"""Progress for long commands: a live line on a terminal, periodic log lines elsewhere."""

from __future__ import annotations

import sys
import time
from typing import Final, TextIO

import click

TERMINAL_REFRESH_SECONDS: Final = 0.2
PLAIN_REFRESH_SECONDS: Final = 10.0
"""Lines to a log file every 10 s: enough to see progress, few enough to read."""


class Progress:
    """Counts work done against an optional total, shows rate and ETA."""

    def __init__(self, label: str, total: int | None = None, stream: TextIO | None = None) -> None:
        self._label = label
        self._total = total
        self._stream = stream or sys.stderr
        self._interactive = self._stream.isatty()
        self._started = time.monotonic()
        self._shown_at = 0.0
        self.done = 0

    def advance(self, count: int = 1, **fields: int) -> None:
        self.done += count
        self._render(fields, force=False)

    def show(self, **fields: int) -> None:
        self._render(fields, force=False)

    def finish(self, **fields: int) -> None:
        self._render(fields, force=True)
        if self._interactive:
            click.echo("", file=self._stream)

    def _render(self, fields: dict[str, int], *, force: bool) -> None:
        now = time.monotonic()
        interval = TERMINAL_REFRESH_SECONDS if self._interactive else PLAIN_REFRESH_SECONDS
        if not force and now - self._shown_at < interval:
            return
        self._shown_at = now
        line = self._line(now, fields)
        if self._interactive:
            click.echo(f"\r\x1b[2K{line}", file=self._stream, nl=False)
        else:
            click.echo(line, file=self._stream)

    def _line(self, now: float, fields: dict[str, int]) -> str:
        elapsed = max(now - self._started, 1e-9)
        rate = self.done / elapsed
        parts = [f"{self._label}: {self.done}"]
        if self._total:
            parts[0] += f"/{self._total}"
            bar_width = 24
            filled = int(bar_width * min(self.done / self._total, 1.0))
            parts.insert(0, "[" + "#" * filled + "." * (bar_width - filled) + "]")
            if rate > 0 and self.done < self._total:
                parts.append(f"ETA {format_seconds((self._total - self.done) / rate)}")
        parts.append(f"{rate:.0f}/s")
        parts.extend(f"{name.replace('_', ' ')} {value}" for name, value in fields.items())
        return "  ".join(parts)


def format_seconds(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"
