"""Numbers, durations and times as a human reads them in a reason."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta


def count(value: float) -> str:
    """1000 -> ``1,000``; 1000.5 -> ``1,000.5``."""
    if math.isfinite(value) and float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.1f}"


def duration(span: timedelta) -> str:
    """``45 min``, ``30 h``, ``4 d 6 h``."""
    minutes = max(int(span.total_seconds() // 60), 0)
    if minutes < 120:
        return f"{minutes} min"
    hours = minutes // 60
    if hours < 72:
        return f"{hours} h"
    days, rest = divmod(hours, 24)
    return f"{days} d {rest} h" if rest else f"{days} d"


def moment(at: datetime) -> str:
    """``2026-11-29 02:00 UTC``."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def number(value: float) -> str:
    """A metric value, short: 0.912, 12.5, 1,234."""
    if float(value).is_integer() and abs(value) >= 1:
        return f"{int(value):,}"
    return f"{value:.4g}"
