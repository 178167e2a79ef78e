"""The baseline of bench_intake.py: notifier's own Flask app, with the store stubbed.

Everything a request goes through (gunicorn, Flask, authentication, body parsing, the
JSON answer) is the real code of the checkout under test; only ``store_events`` answers
"accepted" without touching the database.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from notifier.intake import service
from notifier.intake.store import IntakeResult


def _stored_nowhere(pool: Any, events: Sequence[Any], phase_of: Callable[[str], Any]) -> Any:
    return IntakeResult(accepted=len(events), duplicates=0, unmapped=0)


service.store_events = _stored_nowhere  # type: ignore[assignment]

from notifier.wsgi import app  # noqa: E402

__all__ = ["app"]
