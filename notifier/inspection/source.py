"""Where inspected bytes come from: the ObjectSource protocol and two local implementations."""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer


class ByteStream(Protocol):
    """A sequential reader, such as a urllib3 response or an ``io.BufferedReader``."""

    def read(self, size: int = -1, /) -> bytes: ...

    def close(self) -> None: ...


class ObjectSource(Protocol):
    """One stored object. Exceptions raised by these methods are transport failures:
    ``inspect_object`` lets them propagate unchanged so that the caller can retry."""

    @property
    def bucket(self) -> str: ...

    @property
    def key(self) -> str: ...

    @property
    def size(self) -> int | None: ...

    @property
    def content_type(self) -> str | None: ...

    @property
    def user_metadata(self) -> Mapping[str, str]:
        """Lower-cased keys with the ``x-amz-meta-`` prefix already stripped."""
        ...

    @property
    def bytes_read(self) -> int:
        """Bytes handed out so far by ``open_stream`` readers and ``read_range``."""
        ...

    def open_stream(self) -> ByteStream:
        """The whole object, read sequentially from byte 0."""
        ...

    def read_range(self, offset: int, length: int) -> bytes:
        """Bytes ``offset .. offset+length-1`` (a ranged GET)."""
        ...


@dataclass
class BytesSource:
    """An object held in memory: for tests and for objects already fetched.

    ``size`` starts as ``len(data)``; assign ``None`` to play an object of unknown size.
    """

    data: bytes = field(repr=False)
    key: str
    bucket: str = "memory"
    content_type: str | None = None
    user_metadata: Mapping[str, str] = field(default_factory=dict)
    siblings: Mapping[str, BytesSource] = field(default_factory=dict, repr=False)
    """Other objects of the same bucket by key, for ``sibling`` (model sidecars)."""
    size: int | None = field(init=False)
    bytes_read: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self.size = len(self.data)

    def sibling(self, key: str) -> BytesSource | None:
        """Another object of the same bucket, or None when there is none."""
        return self.siblings.get(key)

    def open_stream(self) -> ByteStream:
        return _CountingReader(self, io.BytesIO(self.data))

    def read_range(self, offset: int, length: int) -> bytes:
        _check_range(offset, length)
        chunk = self.data[offset : offset + length]
        self.bytes_read += len(chunk)
        return chunk


@dataclass
class FileSource:
    """A local file seen as an object: for benchmarks and command-line checks."""

    path: Path
    key: str = ""
    bucket: str = "file"
    content_type: str | None = None
    user_metadata: Mapping[str, str] = field(default_factory=dict)
    size: int | None = field(init=False)
    bytes_read: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self.key = self.key or self.path.name
        self.size = self.path.stat().st_size

    def open_stream(self) -> ByteStream:
        return _CountingReader(self, self.path.open("rb", buffering=0))

    def read_range(self, offset: int, length: int) -> bytes:
        _check_range(offset, length)
        with self.path.open("rb") as handle:
            handle.seek(offset)
            chunk = handle.read(length)
        self.bytes_read += len(chunk)
        return chunk


class _Counter(Protocol):
    bytes_read: int


class _CountingReader(io.RawIOBase):
    """A raw reader that adds what it hands out to its owner's ``bytes_read``."""

    def __init__(self, owner: _Counter, raw: io.RawIOBase | io.BytesIO) -> None:
        super().__init__()
        self._owner = owner
        self._raw = raw

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        count = self._raw.readinto(buffer) or 0
        self._owner.bytes_read += count
        return count

    def close(self) -> None:
        self._raw.close()
        super().close()


def _check_range(offset: int, length: int) -> None:
    if offset < 0 or length < 0:
        raise ValueError(f"invalid byte range: offset={offset}, length={length}")
