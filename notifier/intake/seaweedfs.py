"""SeaweedFS filer webhook events.

Each POST is ``{"event_type", "key": "/buckets/<bucket>/<key>", "message": {...}}`` with
the filer's entries: the key is the raw UTF-8 path (never escaped), and the S3 ETag and
user metadata sit base64-encoded in ``extended``. An ``update`` is a new version of the
object (an overwrite). Directories, multipart staging files under ``.uploads/`` and
SeaweedFS's own ``.``-buckets are not objects of the pipeline and are dropped.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from notifier.errors import PayloadError
from notifier.intake.model import EventKind, ObjectEvent

SENDER: Final = "seaweedfs"
BUCKETS_ROOT: Final = "/buckets/"
STAGING_PREFIX: Final = ".uploads/"
ETAG_ATTRIBUTE: Final = "seaweed-x-amz-etag"
USER_METADATA_PREFIX: Final = "x-amz-meta-"


def looks_like_seaweedfs(document: Mapping[str, Any]) -> bool:
    return {"event_type", "key", "message"} <= document.keys()


def parse_seaweedfs(document: Mapping[str, Any]) -> list[ObjectEvent | None]:
    """The events of one filer notification; None for an entry that is not an object."""
    event_type = document.get("event_type")
    message = document.get("message")
    path = document.get("key")
    if not isinstance(message, Mapping) or not isinstance(path, str):
        raise PayloadError("SeaweedFS event without a 'message' object or a 'key' path")
    old_entry = _entry(message, "old_entry")
    new_entry = _entry(message, "new_entry")
    if event_type in ("create", "update"):
        if new_entry is None:
            raise PayloadError(f"SeaweedFS {event_type} event without 'new_entry'")
        if event_type == "update" and _same_content(old_entry, new_entry):
            return [None]  # a metadata-only change: no new object version
        return [_created(document, path, new_entry, event_type)]
    if event_type == "delete":
        return [_removed(document, path, old_entry)]
    if event_type == "rename":
        if old_entry is None or new_entry is None:
            raise PayloadError("SeaweedFS rename event without both entries")
        parent = message.get("new_parent_path")
        name = new_entry.get("name")
        if not isinstance(parent, str) or not isinstance(name, str):
            raise PayloadError("SeaweedFS rename event without 'new_parent_path' and name")
        new_path = f"{parent.rstrip('/')}/{name}"
        return [
            _removed(document, path, old_entry),
            _created(document, new_path, new_entry, "rename"),
        ]
    raise PayloadError(f"unknown SeaweedFS event_type {event_type!r}")


def _entry(message: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    entry = message.get(name)
    if entry is None:
        return None
    if not isinstance(entry, Mapping):
        raise PayloadError(f"SeaweedFS '{name}' is not an object")
    return entry


def split_path(path: str) -> tuple[str, str] | None:
    """``/buckets/raw/a/b.csv`` -> ("raw", "a/b.csv"); None for what is not an object path."""
    if not path.startswith(BUCKETS_ROOT):
        return None
    bucket, _, key = path.removeprefix(BUCKETS_ROOT).partition("/")
    if not bucket or not key or bucket.startswith(".") or key.startswith(STAGING_PREFIX):
        return None
    return bucket, key


def _created(
    document: Mapping[str, Any], path: str, entry: Mapping[str, Any], event_type: str
) -> ObjectEvent | None:
    location = split_path(path)
    if location is None or entry.get("is_directory"):
        return None
    attributes = _attributes(entry)
    nanos = _modified_ns(entry, attributes)
    extended = _decoded_extended(entry)
    return ObjectEvent(
        sender=SENDER,
        event_name=f"seaweedfs:{event_type}",
        kind=EventKind.CREATED,
        bucket=location[0],
        key=location[1],
        event_time=_moment(nanos),
        payload=document,
        etag=extended.get(ETAG_ATTRIBUTE) or None,
        size=_int(attributes.get("file_size")),
        content_type=_text_or_none(attributes.get("mime")),
        sequencer=f"{nanos:X}",
        user_metadata={
            name.removeprefix(USER_METADATA_PREFIX): value
            for name, value in extended.items()
            if name.startswith(USER_METADATA_PREFIX)
        },
    )


def _removed(
    document: Mapping[str, Any], path: str, entry: Mapping[str, Any] | None
) -> ObjectEvent | None:
    location = split_path(path)
    if location is None or (entry is not None and entry.get("is_directory")):
        return None
    # The filer does not say when the delete happened; it sends within milliseconds.
    return ObjectEvent(
        sender=SENDER,
        event_name="seaweedfs:delete",
        kind=EventKind.REMOVED,
        bucket=location[0],
        key=location[1],
        event_time=datetime.now(UTC),
        payload=document,
    )


def _moment(nanos: int) -> datetime:
    """A time in nanoseconds since the epoch; PayloadError when no datetime can hold it."""
    try:
        return datetime.fromtimestamp(nanos / 1e9, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise PayloadError(f"SeaweedFS time {nanos} ns is out of range") from None


def _attributes(entry: Mapping[str, Any]) -> Mapping[str, Any]:
    attributes = entry.get("attributes", {})
    if not isinstance(attributes, Mapping):
        raise PayloadError("SeaweedFS entry 'attributes' is not an object")
    return attributes


def _modified_ns(entry: Mapping[str, Any], attributes: Mapping[str, Any]) -> int:
    """The newest chunk write in nanoseconds, else the entry's mtime in seconds."""
    chunks = entry.get("chunks") or []
    stamps = [_int(chunk.get("modified_ts_ns")) for chunk in chunks if isinstance(chunk, Mapping)]
    known = [stamp for stamp in stamps if stamp]
    if known:
        return max(known)
    mtime = _int(attributes.get("mtime"))
    if mtime is None:
        raise PayloadError("SeaweedFS entry has neither chunk times nor an mtime")
    return mtime * 1_000_000_000 + (_int(attributes.get("mtime_ns")) or 0)


def _same_content(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> bool:
    if old is None:
        return False
    old_extended, new_extended = _decoded_extended(old), _decoded_extended(new)
    return old_extended.get(ETAG_ATTRIBUTE) == new_extended.get(
        ETAG_ATTRIBUTE
    ) is not None and _modified_ns(old, _attributes(old)) == _modified_ns(new, _attributes(new))


def _decoded_extended(entry: Mapping[str, Any]) -> dict[str, str]:
    """``extended`` with lower-cased names and base64-decoded UTF-8 values."""
    extended = entry.get("extended") or {}
    if not isinstance(extended, Mapping):
        raise PayloadError("SeaweedFS entry 'extended' is not an object")
    decoded: dict[str, str] = {}
    for name, value in extended.items():
        if not isinstance(value, str):
            continue
        try:
            decoded[str(name).lower()] = base64.b64decode(value, validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):  # binascii.Error, or a non-ASCII value
            continue  # binary attributes (e.g. SSE keys) are not metadata we record
    return decoded


def _text_or_none(value: Any) -> str | None:
    """A string field, or None for anything else a sender put there."""
    return value if isinstance(value, str) and value else None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None
