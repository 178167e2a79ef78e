"""The outbox: each message enqueued once per (sink, fingerprint), sent until delivered.

Enqueueing is an ``INSERT ... ON CONFLICT DO NOTHING`` on the fingerprint, so any
number of processes may collect the same alert: it is stored once. Sending claims one
due message at a time with ``FOR UPDATE SKIP LOCKED`` and keeps the row locked until
the POST has been answered and the outcome written, so two senders (threads, worker
replicas, a cron ``notifier export send``) never post the same message. A failure is
retried with exponential backoff (RETRY_BASE_SECONDS doubling to RETRY_MAX_SECONDS);
after MAX_ATTEMPTS, or at once when the sink refuses the message (a 4xx other than
408/429), it is ``failed`` and stays listed until ``notifier export send
--retry-failed``. Delivery is at least once: a sender that dies after the POST but
before its commit leaves the message to be sent again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from notifier.db import query
from notifier.export.http import DeliveryError, post_json

logger = logging.getLogger(__name__)

RETRY_BASE_SECONDS: Final = 30.0
RETRY_MAX_SECONDS: Final = 3600.0
MAX_ATTEMPTS: Final = 12
"""About 6 hours of retries (30 s, 1 min, 2 min, ... then hourly) before ``failed``."""

MAX_SENDS_PER_ROUND: Final = 500
"""Messages one ``send_due`` call posts at most; the rest wait for the next round."""

Poster = Callable[[str, bytes, Mapping[str, str]], object]
"""``post_json``'s shape: (url, body, headers); raises DeliveryError on failure."""


@dataclass(frozen=True)
class Message:
    """One body for one sink. ``fingerprint`` names a durable thing, once per sink."""

    fingerprint: str
    kind: str
    summary: str
    payload: Mapping[str, Any]
    skip_reason: str | None = None
    """Set: the message is recorded as ``skipped`` (never sent), with this reason."""


@dataclass(frozen=True)
class Target:
    """Where a sink posts. ``url`` and ``headers`` may hold secrets: never logged."""

    url: str = field(repr=False)
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class SendTally:
    sent: int = 0
    retrying: int = 0
    failed: int = 0

    def __add__(self, other: SendTally) -> SendTally:
        return SendTally(
            self.sent + other.sent, self.retrying + other.retrying, self.failed + other.failed
        )


def retry_delay(attempts: int) -> timedelta:
    """After the ``attempts``-th failure: 30 s, 60 s, 120 s ... capped at one hour."""
    seconds = min(RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0), RETRY_MAX_SECONDS)
    return timedelta(seconds=seconds)


def enqueue(
    conn: psycopg.Connection[Any], sink: str, messages: Iterable[Message], now: datetime
) -> int:
    """Store the messages not stored yet for ``sink``; returns how many were new."""
    added = 0
    for message in messages:
        row = conn.execute(
            query("outbox_enqueue"),
            {
                "sink": sink,
                "fingerprint": message.fingerprint,
                "kind": message.kind,
                "summary": message.skip_reason or message.summary,
                "payload": Jsonb(dict(message.payload)),
                "now": now,
                "status": "skipped" if message.skip_reason else "pending",
            },
        ).fetchone()
        added += row is not None
    return added


def send_due(
    conn: psycopg.Connection[Any],
    sink: str,
    target: Target,
    now: datetime,
    post: Poster = post_json,
    limit: int = MAX_SENDS_PER_ROUND,
) -> SendTally:
    """Post the messages of ``sink`` due at ``now``, oldest first, one transaction each.

    Stops at the first failure that may pass (the sink is down or slow): the others
    wait for the next round instead of each waiting out a timeout now. A message the
    sink refuses does not stop the others.
    """
    tally = SendTally()
    for _ in range(limit):
        with conn.transaction():
            cursor = conn.cursor(row_factory=dict_row)
            claimed = cursor.execute(query("outbox_claim"), {"sink": sink, "now": now}).fetchone()
            if claimed is None:
                break
            outcome = _deliver(conn, sink, target, claimed, now, post)
        tally += outcome
        if outcome.retrying:
            break
    return tally


def _deliver(
    conn: psycopg.Connection[Any],
    sink: str,
    target: Target,
    claimed: Mapping[str, Any],
    now: datetime,
    post: Poster,
) -> SendTally:
    body = json.dumps(claimed["payload"], separators=(",", ":"), ensure_ascii=False).encode()
    fields = {"action": "export", "sink": sink, "outbox_id": claimed["id"]}
    try:
        post(target.url, body, target.headers)
    except DeliveryError as exc:
        attempts = claimed["attempts"] + 1
        give_up = exc.permanent or attempts >= MAX_ATTEMPTS
        conn.execute(
            query("outbox_failed_attempt"),
            {
                "id": claimed["id"],
                "status": "failed" if give_up else "pending",
                "next_attempt_at": now + retry_delay(attempts),
                "error": str(exc),
            },
        )
        logger.warning(
            "%s message %s: attempt %d failed (%s)%s",
            sink,
            claimed["kind"],
            attempts,
            exc,
            "; giving up" if give_up else "",
            extra=fields,
        )
        return SendTally(failed=1) if give_up else SendTally(retrying=1)
    conn.execute(query("outbox_sent"), {"id": claimed["id"]})
    logger.info("%s message %s sent", sink, claimed["kind"], extra=fields)
    return SendTally(sent=1)


def retry_failed(conn: psycopg.Connection[Any], sink: str, now: datetime) -> int:
    """Make the ``failed`` messages of ``sink`` due again; returns how many."""
    return conn.execute(query("outbox_retry_failed"), {"sink": sink, "now": now}).rowcount
