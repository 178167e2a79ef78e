"""The S3 boundary: one minio client, object sources for inspection, error translation."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Final

import urllib3
from minio import Minio
from minio.error import MinioException, S3Error, ServerError

from notifier.config import S3Settings
from notifier.errors import NotifierError, TransientError
from notifier.metrics import S3_ERRORS

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT_SECONDS: Final = 5.0
READ_TIMEOUT_SECONDS: Final = 60.0
"""Longest wait for one socket read; the inspection deadline bounds the whole read."""

PROBE_TIMEOUT_SECONDS: Final = 1.0
"""A readiness probe must answer within the kubelet's default 1 s probe timeout."""

HTTP_RETRIES: Final = 2
"""Quick retries inside one attempt; the worker's backoff covers longer outages."""

TRANSIENT_S3_CODES: Final = frozenset(
    {
        "InternalError",
        "ServiceUnavailable",
        "SlowDown",
        "RequestTimeout",
        "XMinioServerNotInitialized",
    }
)
MISSING_S3_CODES: Final = frozenset({"NoSuchKey", "NoSuchVersion", "NoSuchObject"})
USER_METADATA_PREFIX: Final = "x-amz-meta-"


class ObjectUnreadable(NotifierError):
    """The store answered, but will not give this object (denied, bucket gone)."""


class ObjectMissing(ObjectUnreadable):
    """The object no longer exists: it was removed before it could be read."""


def make_client(s3: S3Settings, *, probe: bool = False) -> Minio:
    """The shared client; ``probe=True`` gives one for health checks: one try, short waits."""
    http = urllib3.PoolManager(
        timeout=(
            urllib3.Timeout(connect=PROBE_TIMEOUT_SECONDS, read=PROBE_TIMEOUT_SECONDS)
            if probe
            else urllib3.Timeout(connect=CONNECT_TIMEOUT_SECONDS, read=READ_TIMEOUT_SECONDS)
        ),
        retries=(
            urllib3.Retry(total=0)
            if probe
            else urllib3.Retry(
                total=HTTP_RETRIES, backoff_factor=0.2, status_forcelist=(500, 502, 503, 504)
            )
        ),
        maxsize=16,
    )
    return Minio(
        s3.host,
        access_key=s3.access_key,
        secret_key=s3.secret_key,
        secure=s3.secure,
        region=s3.region,
        http_client=http,
    )


@contextmanager
def s3_errors(bucket: str, key: str) -> Iterator[None]:
    """Sort S3 failures into retry-later (TransientError) and per-object verdicts."""
    try:
        yield
    except S3Error as exc:
        if exc.code in MISSING_S3_CODES:
            S3_ERRORS.labels("missing").inc()
            raise ObjectMissing(f"object s3://{bucket}/{key} no longer exists") from exc
        if exc.code in TRANSIENT_S3_CODES:
            S3_ERRORS.labels("transient").inc()
            raise TransientError(f"S3 {exc.code} reading s3://{bucket}/{key}") from exc
        S3_ERRORS.labels("refused").inc()
        raise ObjectUnreadable(f"S3 refused s3://{bucket}/{key}: {exc.code}") from exc
    except ServerError as exc:
        S3_ERRORS.labels("transient").inc()
        raise TransientError(
            f"S3 server error {exc.status_code} reading s3://{bucket}/{key}"
        ) from exc
    except (urllib3.exceptions.HTTPError, OSError, MinioException) as exc:
        S3_ERRORS.labels("transient").inc()
        raise TransientError(f"S3 unreachable: {type(exc).__name__}: {exc}") from exc


@dataclass(frozen=True)
class ListedObject:
    """One entry of a bucket listing."""

    key: str
    etag: str | None
    size: int
    last_modified: datetime
    version_id: str | None = None


@dataclass(frozen=True)
class ObjectInfo:
    size: int
    etag: str | None
    content_type: str | None
    version_id: str | None
    user_metadata: Mapping[str, str]
    last_modified: datetime


def normalize_metadata(headers: Mapping[str, Any]) -> dict[str, str]:
    """``X-Amz-Meta-Foo`` (any case) -> ``foo``; other headers dropped."""
    result: dict[str, str] = {}
    for name, value in headers.items():
        lowered = str(name).lower()
        if lowered.startswith(USER_METADATA_PREFIX):
            result[lowered.removeprefix(USER_METADATA_PREFIX)] = str(value)
    return result


@dataclass(frozen=True)
class FetchedObject:
    """What one GET returned: the headers, and the bytes when the object was small."""

    info: ObjectInfo
    data: bytes | None = field(repr=False)


def _info_from_headers(headers: Mapping[str, str]) -> ObjectInfo:
    """A GET's headers carry what a HEAD's do (RFC 9110 section 9.3.2)."""
    modified = headers.get("last-modified")
    return ObjectInfo(
        size=int(headers.get("content-length") or 0),
        etag=(headers.get("etag") or "").strip('"') or None,
        content_type=headers.get("content-type"),
        version_id=headers.get("x-amz-version-id"),
        user_metadata=normalize_metadata(headers),
        last_modified=parsedate_to_datetime(modified) if modified else datetime.now(UTC),
    )


class ObjectStore:
    """Reads objects through one shared, thread-safe minio client."""

    def __init__(self, client: Minio) -> None:
        self._client = client

    def stat(self, bucket: str, key: str, version_id: str | None = None) -> ObjectInfo:
        with s3_errors(bucket, key):
            stat = self._client.stat_object(bucket, key, version_id=version_id)
        return ObjectInfo(
            size=int(stat.size or 0),
            etag=(stat.etag or "").strip('"') or None,
            content_type=stat.content_type,
            version_id=stat.version_id,
            user_metadata=normalize_metadata(stat.metadata or {}),
            last_modified=stat.last_modified or datetime.now(UTC),
        )

    def reachable(self, bucket: str) -> bool:
        """Whether the store answers for ``bucket`` now (any answer but a failure)."""
        try:
            self._client.bucket_exists(bucket)
        except (S3Error, ServerError, urllib3.exceptions.HTTPError, OSError, MinioException):
            return False
        return True

    def fetch(self, bucket: str, key: str, version_id: str | None, max_bytes: int) -> FetchedObject:
        """One GET: the object's headers (what ``stat`` gives) and, when it is at most
        ``max_bytes`` long, its bytes; a larger object's body is left unread.

        Raises ObjectMissing, ObjectUnreadable or TransientError as ``stat`` does.
        """
        with s3_errors(bucket, key):
            response = self._client.get_object(bucket, key, version_id=version_id)
            try:
                sized = "content-length" in response.headers
                info = _info_from_headers(response.headers)
                # The stored bytes, whatever Content-Encoding says (urllib3 would gunzip).
                small = sized and info.size <= max_bytes
                data: bytes | None = response.read(decode_content=False) if small else None
            finally:
                response.close()
                response.release_conn()
        if not sized:  # a chunked answer says no size: ask for it
            return FetchedObject(info=self.stat(bucket, key, version_id), data=None)
        if data is not None and len(data) != info.size:
            raise TransientError(f"S3 sent {len(data)} of {info.size} bytes of s3://{bucket}/{key}")
        return FetchedObject(info=info, data=data)

    def list(self, bucket: str, prefix: str | None = None) -> Iterator[ListedObject]:
        """Every object under ``prefix``, in key order, streamed page by page."""
        with s3_errors(bucket, prefix or ""):
            for entry in self._client.list_objects(bucket, prefix=prefix, recursive=True):
                if entry.is_dir or entry.object_name is None:
                    continue
                yield ListedObject(
                    key=entry.object_name,
                    etag=(entry.etag or "").strip('"') or None,
                    size=int(entry.size or 0),
                    last_modified=entry.last_modified or datetime.now(UTC),
                    version_id=entry.version_id,
                )

    def source(self, bucket: str, key: str, info: ObjectInfo) -> S3ObjectSource:
        return S3ObjectSource(
            client=self._client,
            bucket=bucket,
            key=key,
            size=info.size,
            content_type=info.content_type,
            user_metadata=info.user_metadata,
            version_id=info.version_id,
        )


@dataclass
class S3ObjectSource:
    """One object version, read either as a stream or by byte ranges."""

    client: Minio = field(repr=False)
    bucket: str
    key: str
    size: int | None
    content_type: str | None
    user_metadata: Mapping[str, str]
    version_id: str | None = None
    bytes_read: int = 0

    def open_stream(self) -> io.RawIOBase:
        """The object's bytes exactly as stored: a ``Content-Encoding`` is not undone.

        Unbuffered: ``read`` hands out the HTTP response's own bytes (inspection reads
        in blocks of its own), so no layer between the socket and the reader copies them.
        """
        with s3_errors(self.bucket, self.key):
            response = self.client.get_object(self.bucket, self.key, version_id=self.version_id)
        return _ResponseReader(self, response)

    def read_range(self, offset: int, length: int) -> bytes:
        if length <= 0:
            return b""
        with s3_errors(self.bucket, self.key):
            response = self.client.get_object(
                self.bucket, self.key, offset=offset, length=length, version_id=self.version_id
            )
            try:
                data: bytes = response.read(decode_content=False)
            finally:
                response.close()
                response.release_conn()
        self.bytes_read += len(data)
        return data

    def sibling(self, key: str) -> S3ObjectSource | None:
        """The newest version of another object of this bucket (a model's sidecar), or
        None when it does not exist or the store refuses it. Store outages raise."""
        try:
            with s3_errors(self.bucket, key):
                try:
                    stat = self.client.stat_object(self.bucket, key)
                except S3Error as exc:
                    if exc.code in MISSING_S3_CODES:  # the usual answer: not a store error
                        return None
                    raise
        except ObjectUnreadable as exc:
            logger.debug("sibling %s not readable: %s", key, exc)
            return None
        return S3ObjectSource(
            client=self.client,
            bucket=self.bucket,
            key=key,
            size=int(stat.size or 0),
            content_type=stat.content_type,
            user_metadata=normalize_metadata(stat.metadata or {}),
        )


class _ResponseReader(io.RawIOBase):
    """A GET response as a raw file that counts bytes and translates transport errors.

    Reads pass ``decode_content=False``: urllib3 would otherwise gunzip an object
    stored with ``Content-Encoding: gzip`` (and choke on a ranged slice of one), and
    inspection must see the stored bytes, whose compression it detects itself.
    """

    def __init__(self, owner: S3ObjectSource, response: Any) -> None:
        self._owner = owner
        self._response = response

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1, /) -> bytes:
        """Up to ``size`` bytes (all the rest for -1 or None), the response's own."""
        amount = None if size is None or size < 0 else size
        with s3_errors(self._owner.bucket, self._owner.key):
            data: bytes = self._response.read(amount, decode_content=False)
        self._owner.bytes_read += len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._response.close()
            self._response.release_conn()
        super().close()
