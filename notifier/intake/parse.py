"""Recognise a webhook body by its shape and turn it into object events.

Shapes: MinIO's ``{"EventName", "Key", "Records"}``; a bare ``{"Records": [...]}``
(RustFS, Ceph RGW, AWS-style senders); an SNS envelope around either; a SeaweedFS
filer event. Anything else raises PayloadError, which the receiver dead-letters.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from notifier.errors import PayloadError
from notifier.intake.model import ObjectEvent
from notifier.intake.s3_records import parse_records
from notifier.intake.seaweedfs import looks_like_seaweedfs, parse_seaweedfs
from notifier.intake.sns import (
    SubscriptionConfirmation,
    looks_like_sns,
    subscription_confirmation,
    unwrap_notification,
)

S3_TEST_EVENT = "s3:TestEvent"
"""What S3 sends once when notifications are configured; it describes no object."""


@dataclass(frozen=True)
class ParsedBody:
    """What one webhook body held."""

    sender: str
    events: tuple[ObjectEvent, ...]
    ignored: int
    """Entries notifier does not audit: reads, tagging, directories, test events."""
    subscription: SubscriptionConfirmation | None = None


def parse_body(body: bytes) -> ParsedBody:
    """Parse a webhook body; raise PayloadError with a reason when it is not an event."""
    try:
        document = json.loads(body)
    except RecursionError:
        raise PayloadError("body is not JSON notifier can read: nested too deeply") from None
    except ValueError as exc:
        # JSONDecodeError, UnicodeDecodeError, and Python's limit on the digits of an
        # integer (sys.get_int_max_str_digits(), 4300 by default) are all ValueErrors.
        raise PayloadError(f"body is not JSON notifier can read: {exc}") from None
    if not isinstance(document, Mapping):
        raise PayloadError("body is not a JSON object")
    if looks_like_sns(document):
        return _parse_sns(document)
    if looks_like_seaweedfs(document):
        return _collect("seaweedfs", parse_seaweedfs(document))
    if "Records" in document:
        sender = "minio" if {"EventName", "Key"} <= document.keys() else _record_sender(document)
        return _collect(sender, parse_records(document["Records"], sender))
    shown = ", ".join(sorted(str(k) for k in document)[:8])
    raise PayloadError(f"body is not a known object-event shape (fields: {shown})")


def _parse_sns(document: Mapping[str, Any]) -> ParsedBody:
    if document.get("Type") == "SubscriptionConfirmation":
        confirmation = subscription_confirmation(document)
        return ParsedBody(sender="sns", events=(), ignored=0, subscription=confirmation)
    inner = unwrap_notification(document)
    if inner.get("Event") == S3_TEST_EVENT:
        return ParsedBody(sender="sns", events=(), ignored=1)
    if "Records" not in inner:
        raise PayloadError("SNS Message holds no S3 'Records'")
    return _collect("sns", parse_records(inner["Records"], "sns"))


def _record_sender(document: Mapping[str, Any]) -> str:
    """``ceph``, ``rustfs``, ``aws``... from the first record's eventSource, else ``s3``."""
    records = document.get("Records")
    if isinstance(records, list) and records and isinstance(records[0], Mapping):
        source = records[0].get("eventSource")
        if isinstance(source, str) and source.endswith(":s3"):
            return source.removesuffix(":s3")
    return "s3"


def _collect(sender: str, parsed: list[ObjectEvent | None]) -> ParsedBody:
    events = tuple(event for event in parsed if event is not None)
    return ParsedBody(sender=sender, events=events, ignored=len(parsed) - len(events))
