"""Who wrote an object: the principal, source IP address and request id a sender reports.

Amazon S3 Metadata's journal table keeps these as ``requester``, ``source_ip_address``
and ``request_id``; notifier keeps them as ``principal_id``, ``source_ip`` (PostgreSQL
``inet``) and ``request_id`` on the event and on its audit row. S3-style records (MinIO,
RustFS, AWS, Ceph RGW) carry ``userIdentity.principalId``,
``requestParameters.sourceIPAddress`` and ``responseElements["x-amz-request-id"]``
(MinIO: minio/minio:internal/event/event.go; AWS: the S3 event message structure).
SeaweedFS's filer webhook carries none of them. A missing or malformed value is None,
never an error: who wrote an object is context, not a reason to refuse its event.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

MAX_IDENTITY_CHARS: Final = 256
"""Longest principal or request id kept; longer values are cut (AWS ids are ~20-130)."""


@dataclass(frozen=True)
class Writer:
    """The writer's identity as the sender reported it; each part None when unknown."""

    principal_id: str | None = None
    source_ip: str | None = None
    """A valid IPv4 or IPv6 address in its normal text form."""
    request_id: str | None = None


def from_s3_record(record: Mapping[str, Any]) -> Writer:
    """The writer of one S3-style record (fields absent or null for internal events)."""
    return Writer(
        principal_id=_identity(_member(record, "userIdentity", "principalId")),
        source_ip=parse_ip(_member(record, "requestParameters", "sourceIPAddress")),
        request_id=_identity(_member(record, "responseElements", "x-amz-request-id")),
    )


def parse_ip(value: Any) -> str | None:
    """An IP address as ``inet`` accepts it, or None.

    Accepts ``10.0.0.5``, ``2001:db8::1``, ``[2001:db8::1]`` (MinIO brackets IPv6) and an
    IPv6 zone (``fe80::1%eth0``, dropped). Anything else, ports included, is None.
    """
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    text = text.split("%", 1)[0]
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def _member(record: Mapping[str, Any], parent: str, name: str) -> Any:
    holder = record.get(parent)
    return holder.get(name) if isinstance(holder, Mapping) else None


def _identity(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    text = value.replace("\x00", "").strip()
    return text[:MAX_IDENTITY_CHARS] or None
