"""Test helpers: webhook bodies shaped exactly as MinIO sends them.

Built from ../shared/reference/minio-webhook-contract.md: one record per POST, the
object key query-escaped like Go's url.QueryEscape (space as '+', '/' as '%2F'),
fields omitted when empty (a zero-byte object has no 'size'), compact JSON.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote_plus, unquote_plus

CREATED_NAMES = {
    "put": "s3:ObjectCreated:Put",
    "copy": "s3:ObjectCreated:Copy",
    "multipart": "s3:ObjectCreated:CompleteMultipartUpload",
    "delete": "s3:ObjectRemoved:Delete",
}


def go_query_escape(key: str) -> str:
    return quote_plus(key, safe="")


def minio_record(
    bucket: str,
    key: str,
    *,
    event_name: str = "s3:ObjectCreated:Put",
    size: int | None = None,
    etag: str | None = None,
    content_type: str | None = None,
    version_id: str | None = None,
    sequencer: str | None = None,
    user_metadata: dict[str, str] | None = None,
    event_time: datetime | None = None,
) -> dict[str, Any]:
    moment = event_time or datetime.now(UTC)
    obj: dict[str, Any] = {"key": go_query_escape(key)}
    removed = event_name.startswith("s3:ObjectRemoved:")
    if not removed:
        if size:  # omitempty: absent for zero-byte objects
            obj["size"] = size
        if etag:
            obj["eTag"] = etag
        if content_type:
            obj["contentType"] = content_type
        metadata = {"content-type": content_type or "binary/octet-stream"}
        metadata.update(user_metadata or {})
        obj["userMetadata"] = dict(sorted(metadata.items()))
    if version_id:
        obj["versionId"] = version_id
    obj["sequencer"] = sequencer or f"{time.time_ns():X}"
    return {
        "eventVersion": "2.0",
        "eventSource": "minio:s3",
        "awsRegion": "",
        "eventTime": moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z",
        "eventName": event_name,
        "userIdentity": {"principalId": "minioadmin"},
        "requestParameters": {
            "principalId": "minioadmin",
            "region": "",
            "sourceIPAddress": "127.0.0.1",
        },
        "responseElements": {
            "x-amz-id-2": "08cb7ec3f746c41d77c1abb4318291fc6626e2d79617984706893defc5bfa9dc",
            "x-amz-request-id": f"{time.time_ns():X}",
            "x-minio-deployment-id": "b7d2e6a4-3f1c-4e0a-9c8e-5a1d2f3b4c6e",
            "x-minio-origin-endpoint": "http://127.0.0.1:9000",
        },
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "Config",
            "bucket": {
                "name": bucket,
                "ownerIdentity": {"principalId": "minioadmin"},
                "arn": f"arn:aws:s3:::{bucket}",
            },
            "object": obj,
        },
        "source": {"host": "127.0.0.1", "port": "", "userAgent": "MinIO (linux; amd64)"},
    }


def minio_body(*records: dict[str, Any]) -> bytes:
    """MinIO's envelope; MinIO itself always sends exactly one record."""
    first = records[0]
    bucket = first["s3"]["bucket"]["name"]
    key = unquote_plus(first["s3"]["object"]["key"])
    envelope = {"EventName": first["eventName"], "Key": f"{bucket}/{key}", "Records": list(records)}
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False).encode()


def record_for_stat(client: Any, bucket: str, key: str, **overrides: Any) -> dict[str, Any]:
    """A MinIO record describing an object as the store holds it now."""
    stat = client.stat_object(bucket, key)
    metadata = {
        name: value
        for name, value in (stat.metadata or {}).items()
        if name.lower().startswith("x-amz-meta-")
    }
    fields: dict[str, Any] = {
        "size": stat.size,
        "etag": (stat.etag or "").strip('"'),
        "content_type": stat.content_type,
        "version_id": stat.version_id,
        "user_metadata": metadata,
        "sequencer": f"{int(stat.last_modified.timestamp() * 1e9):X}",
        "event_time": stat.last_modified,
    }
    fields.update(overrides)
    return minio_record(bucket, key, **fields)
