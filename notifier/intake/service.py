"""Receiving one webhook body: parse it, then store its events or dead-letter it."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from psycopg_pool import ConnectionPool

from notifier.config import Settings
from notifier.errors import PayloadError
from notifier.intake.parse import ParsedBody, parse_body
from notifier.intake.refusal import refusals_as_payload_errors
from notifier.intake.sns import SubscriptionConfirmation, confirm_subscription
from notifier.intake.store import store_dead_letter, store_events
from notifier.metrics import EVENTS_RECEIVED

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reply:
    status: int
    body: dict[str, Any]


@dataclass(frozen=True)
class Delivery:
    """One authenticated webhook request, as received."""

    body: bytes
    content_type: str | None
    remote_addr: str | None


def receive(delivery: Delivery, settings: Settings, pool: ConnectionPool) -> Reply:
    """Store what the body holds; raises DatabaseUnavailable when nothing could be stored."""
    try:
        parsed = _parse(delivery.body)
        if parsed.subscription is not None:
            return _subscription(parsed.subscription, delivery, settings, pool)
        with refusals_as_payload_errors():
            result = store_events(pool, parsed.events, settings.phase_of)
    except PayloadError as exc:
        EVENTS_RECEIVED.labels("unknown", "dead_lettered").inc()
        return _dead_letter(delivery, str(exc), pool)
    count_outcomes(
        parsed.sender,
        result.accepted - result.unmapped,
        result.duplicates,
        result.unmapped,
        parsed.ignored,
    )
    return Reply(200, _summary(parsed, result.accepted, result.duplicates, result.unmapped))


def count_outcomes(
    sender: str, accepted: int, duplicates: int, unmapped: int, ignored: int
) -> None:
    """notifier_events_received_total, one increment per outcome seen in a body."""
    for outcome, count in (
        ("accepted", accepted),
        ("duplicate", duplicates),
        ("unmapped", unmapped),
        ("ignored", ignored),
    ):
        if count:
            EVENTS_RECEIVED.labels(sender, outcome).inc(count)


def _parse(body: bytes) -> ParsedBody:
    """parse_body, with a last line of defence: a body a parser chokes on is a body
    notifier does not understand, kept as a dead letter (never a 500, which MinIO would
    retry forever). The traceback is logged so the parser can be fixed."""
    try:
        return parse_body(body)
    except PayloadError:
        raise
    except Exception as exc:
        logger.exception("parser failed on a body", extra={"action": "dead_letter"})
        raise PayloadError(f"body could not be parsed ({type(exc).__name__})") from exc


def storable_text(text: str) -> str:
    """``text`` as PostgreSQL text can hold it: NUL and lone surrogates escaped."""
    escaped = text.replace("\x00", "\\x00")
    return escaped.encode("utf-8", "backslashreplace").decode("utf-8")


def _summary(parsed: ParsedBody, accepted: int, duplicates: int, unmapped: int) -> dict[str, Any]:
    return {
        "sender": parsed.sender,
        "accepted": accepted,
        "duplicates": duplicates,
        "unmapped": unmapped,
        "ignored": parsed.ignored,
    }


def _dead_letter(delivery: Delivery, reason: str, pool: ConnectionPool) -> Reply:
    # A reason may quote the body (a field name); it must be storable whatever it holds.
    reason = storable_text(reason)
    dead_letter_id = store_dead_letter(
        pool,
        reason=reason,
        body=delivery.body,
        content_type=None
        if delivery.content_type is None
        else storable_text(delivery.content_type),
        remote_addr=delivery.remote_addr,
    )
    # 2xx on purpose: MinIO retries anything else forever, blocking its queue.
    return Reply(202, {"dead_lettered": True, "dead_letter_id": dead_letter_id, "reason": reason})


def _subscription(
    confirmation: SubscriptionConfirmation,
    delivery: Delivery,
    settings: Settings,
    pool: ConnectionPool,
) -> Reply:
    if confirmation.topic_arn not in settings.sns_confirm_topics:
        # Kept with its SubscribeURL, so an operator can confirm by hand.
        return _dead_letter(
            delivery,
            f"SNS subscription confirmation for {confirmation.topic_arn} not followed: "
            "the topic is not in NOTIFIER_SNS_CONFIRM_TOPICS",
            pool,
        )
    try:
        confirm_subscription(confirmation)
    except OSError as exc:
        logger.warning("SNS subscription confirmation failed: %s", exc)
        return Reply(
            503,
            {
                "error": {
                    "status": 503,
                    "code": "confirmation_failed",
                    "message": "could not confirm the SNS subscription",
                }
            },
        )
    logger.info("confirmed SNS subscription to %s", confirmation.topic_arn)
    return Reply(200, {"sender": "sns", "subscription_confirmed": confirmation.topic_arn})
