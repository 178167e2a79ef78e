"""The one internal shape every sender's event is turned into."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from notifier.intake.writer import Writer


class EventKind(StrEnum):
    CREATED = "created"
    REMOVED = "removed"


class Origin(StrEnum):
    WEBHOOK = "webhook"
    RESCAN = "rescan"


@dataclass(frozen=True)
class ObjectEvent:
    """A new or removed object, whoever reported it.

    ``key`` is the decoded object name, exactly as stored in the bucket.
    ``payload`` is the sender's record, verbatim, for forensics and replay.
    """

    sender: str
    event_name: str
    kind: EventKind
    bucket: str
    key: str
    event_time: datetime
    payload: Mapping[str, Any] = field(repr=False)
    etag: str | None = None
    version_id: str | None = None
    size: int | None = None
    content_type: str | None = None
    sequencer: str | None = None
    user_metadata: Mapping[str, str] = field(default_factory=dict)
    origin: Origin = Origin.WEBHOOK
    writer: Writer = field(default_factory=Writer)
    """Who wrote the object, where the sender says (notifier.intake.writer)."""

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    @property
    def is_folder_marker(self) -> bool:
        """A zero-byte ``dir/`` object, as consoles and s3fs create for folders: no data."""
        return self.kind is EventKind.CREATED and self.key.endswith("/") and not self.size

    @property
    def file_name(self) -> str:
        return self.key.rsplit("/", 1)[-1]

    @property
    def dedup_key(self) -> str:
        """Equal for two deliveries of one event, different for a real re-upload.

        A re-upload changes the sequencer (MinIO: the object's modification time in
        nanoseconds) or, for senders without one, the event time and usually the
        etag. The kind is part of it, so a put and the delete that follows differ.
        """
        return dedup_key(
            self.kind.value,
            self.bucket,
            self.key,
            self.version_id,
            self.sequencer or self.event_time.isoformat(),
            self.etag,
        )


def dedup_key(
    kind: str, bucket: str, key: str, version_id: str | None, moment: str, etag: str | None
) -> str:
    """``ObjectEvent.dedup_key`` from its parts; ``moment`` is the sequencer, else the
    event time's ``isoformat()``. For callers that store events without building them
    (a rescan's listing pages)."""
    parts = (kind, bucket, key, version_id or "", moment, etag or "")
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


RESCAN_SENDER: Final = "rescan"
"""The sender of the events a rescan (or a reconcile repair) stores."""
RESCAN_EVENT_NAME: Final = "rescan:ObjectCreated"
