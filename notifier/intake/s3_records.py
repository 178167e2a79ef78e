"""S3-style event records, as MinIO, RustFS, AWS and Ceph RGW send them.

MinIO and RustFS query-escape ``s3.object.key`` (Go's ``url.QueryEscape``: space as
``+``, ``/`` as ``%2F``) and AWS form-encodes it the same way but leaves ``/`` alone:
``unquote_plus`` decodes all three. Ceph RGW sends the key raw, so decoding it would
corrupt a literal ``+`` or ``%``: its records (``eventSource: ceph:s3``) are taken as is.
Ceph also lists user metadata as ``[{"key": ..., "val": ...}]`` under ``metadata``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import unquote_plus

from notifier.errors import PayloadError
from notifier.intake.model import EventKind, ObjectEvent
from notifier.intake.writer import from_s3_record

CREATED_EVENTS = frozenset(
    {
        "ObjectCreated:Put",
        "ObjectCreated:Post",
        "ObjectCreated:Copy",
        "ObjectCreated:CompleteMultipartUpload",
    }
)
"""Events that make a new object version worth auditing. Tagging, retention and legal
hold are also ``ObjectCreated:*`` in MinIO, but they change no content."""

REMOVED_PREFIXES = (
    "ObjectRemoved:",
    "LifecycleExpiration:",
    "LifecycleDelMarkerExpiration:",
    # Ceph RGW's lifecycle expiry (its extension of the S3 names); not ...:Transition:*.
    "ObjectLifecycle:Expiration:",
)
"""Removals; MinIO's ``ObjectRemoved:NoOP`` is one too, stored and recorded as removing
nothing. What each one removes is notifier.audit.removals' registry."""

NOT_REMOVED_EVENTS = frozenset(
    {"ObjectLifecycle:Expiration:AbortMultipartUpload", "ObjectRemoved:AbortMultipartUpload"}
)
"""Removals of something that is not an object version (an unfinished upload)."""

USER_METADATA_PREFIX = "x-amz-meta-"

RAW_KEY_SOURCES = frozenset({"ceph:s3"})
"""Senders whose ``s3.object.key`` is not escaped."""


def event_kind(event_name: str) -> EventKind | None:
    """The kind of an S3 event name, with or without MinIO's ``s3:`` prefix."""
    name = event_name.removeprefix("s3:")
    if name in CREATED_EVENTS:
        return EventKind.CREATED
    if name.startswith(REMOVED_PREFIXES) and name not in NOT_REMOVED_EVENTS:
        return EventKind.REMOVED
    return None


def parse_records(records: Any, sender: str) -> list[ObjectEvent | None]:
    """One entry per record: an event, or None for a kind notifier does not audit."""
    if not isinstance(records, list):
        raise PayloadError("'Records' is not a list")
    return [parse_record(record, sender) for record in records]


def parse_record(record: Any, sender: str) -> ObjectEvent | None:
    if not isinstance(record, Mapping):
        raise PayloadError("a record is not a JSON object")
    event_name = _text(record, "eventName")
    kind = event_kind(event_name)
    if kind is None:
        return None
    s3 = _mapping(record, "s3")
    bucket = _text(_mapping(s3, "bucket"), "name")
    obj = _mapping(s3, "object")
    raw_key = _text(obj, "key")
    source = record.get("eventSource")
    raw = isinstance(source, str) and source in RAW_KEY_SOURCES
    key = raw_key if raw else unquote_plus(raw_key)
    if not bucket or not key:
        raise PayloadError("a record has an empty bucket name or object key")
    return ObjectEvent(
        sender=sender,
        event_name=event_name,
        kind=kind,
        bucket=bucket,
        key=key,
        event_time=parse_event_time(_text(record, "eventTime")),
        payload=record,
        etag=_optional_text(obj, "eTag", strip='"'),
        version_id=_optional_text(obj, "versionId"),
        size=_optional_size(obj),
        content_type=_optional_text(obj, "contentType"),
        sequencer=_optional_text(obj, "sequencer"),
        user_metadata=user_metadata(obj.get("userMetadata")) or ceph_metadata(obj.get("metadata")),
        writer=from_s3_record(record),
    )


def user_metadata(raw: Any) -> dict[str, str]:
    """``X-Amz-Meta-*`` entries with lower-cased names and the prefix dropped.

    MinIO also lists system headers (``content-type``, ``cache-control``) here; they
    describe the object, not the pipeline, so they are left out.
    """
    if not isinstance(raw, Mapping):
        return {}
    result: dict[str, str] = {}
    for name, value in raw.items():
        lowered = str(name).lower()
        if lowered.startswith(USER_METADATA_PREFIX) and isinstance(value, str):
            result[lowered.removeprefix(USER_METADATA_PREFIX)] = value
    return result


def ceph_metadata(raw: Any) -> dict[str, str]:
    """Ceph's ``[{"key": "x-amz-meta-color", "val": "red"}]`` as ``{"color": "red"}``."""
    if not isinstance(raw, list):
        return {}
    result: dict[str, str] = {}
    for entry in raw:
        if isinstance(entry, Mapping) and isinstance(entry.get("val"), str):
            name = str(entry.get("key", "")).lower().removeprefix(USER_METADATA_PREFIX)
            if name:
                result[name] = entry["val"]
    return result


def parse_event_time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise PayloadError(f"eventTime {text!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise PayloadError(f"eventTime {text!r} has no time zone")
    return moment


def _mapping(parent: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = parent.get(name)
    if not isinstance(value, Mapping):
        raise PayloadError(f"'{name}' is missing or not an object")
    return value


def _text(parent: Mapping[str, Any], name: str) -> str:
    value = parent.get(name)
    if not isinstance(value, str):
        raise PayloadError(f"'{name}' is missing or not a string")
    return value


def _optional_text(parent: Mapping[str, Any], name: str, strip: str = "") -> str | None:
    value = parent.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise PayloadError(f"'{name}' is not a string")
    return value.strip(strip) or None


def _optional_size(obj: Mapping[str, Any]) -> int | None:
    # MinIO omits size for zero-byte objects (omitempty), and for removals.
    value = obj.get("size")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise PayloadError("'size' is not a whole number")
    try:
        size = int(value)
    except ValueError:
        raise PayloadError("'size' is not a whole number") from None
    if size < 0:
        raise PayloadError("'size' is negative")
    return size
