"""Telling "the database is unreachable" from "the database refuses this event".

Only the first is worth a 503: the sender retries, and the retry succeeds once the
database is back. The second would be refused on every retry, and MinIO retries a
non-2xx forever, blocking every later event in its queue; such an event is
dead-lettered instead (kept verbatim, answered 2xx).

What counts as a refusal of the content is decided by the SQLSTATE class (PostgreSQL
manual, Appendix A "PostgreSQL Error Codes"): 22 data exception (a NUL character,
an invalid JSON escape, a value out of range), 23 integrity constraint violation, and
54 program limit exceeded (an index row too large, JSON nested too deeply). A value
Python cannot encode for the wire (a lone UTF-16 surrogate) is refused the same way.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

import psycopg

from notifier.errors import PayloadError

CONTENT_SQLSTATE_CLASSES: Final = frozenset({"22", "23", "54"})
"""SQLSTATE classes that describe the data sent, not the server's state."""


def refusal_reason(exc: BaseException) -> str | None:
    """Why the database refused an event for what it contains, or None when it did not.

    Follows the exception's cause chain, since the store wraps driver errors.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, psycopg.Error):
            sqlstate = current.sqlstate or ""
            if sqlstate[:2] in CONTENT_SQLSTATE_CLASSES:
                message = current.diag.message_primary or type(current).__name__
                return f"the database refused the event ({sqlstate}): {message}"
        if isinstance(current, UnicodeEncodeError):
            return f"a value cannot be stored as UTF-8: {current.reason}"
        current = current.__cause__ or current.__context__
    return None


@contextmanager
def refusals_as_payload_errors() -> Iterator[None]:
    """Re-raise a refusal of the content as PayloadError; let every other error through."""
    try:
        yield
    except PayloadError:
        raise
    except Exception as exc:
        reason = refusal_reason(exc)
        if reason is None:
            raise
        raise PayloadError(reason) from exc


__all__ = ["CONTENT_SQLSTATE_CLASSES", "refusal_reason", "refusals_as_payload_errors"]
